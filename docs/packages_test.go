package docs_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The Packages block of architecture.md is a newcomer's map: every package
// of the module is on it, by its own line or under a folder line (one
// ending in "/"), and every line names a folder that exists.
func TestPackagesListed(t *testing.T) {
	block := regexp.MustCompile("(?s)## Packages\n\n```\n(.*?)```").FindStringSubmatch(read(t, "architecture.md"))
	if block == nil {
		t.Fatal("architecture.md: no ## Packages section with a code block")
	}
	var exact, folders []string
	for _, line := range strings.Split(strings.TrimSpace(block[1]), "\n") {
		entry := strings.Fields(line)[0]
		if fi, err := os.Stat(filepath.Join("..", entry)); err != nil || !fi.IsDir() {
			t.Errorf("architecture.md Packages: %s is no folder of the repository", entry)
		}
		if strings.HasSuffix(entry, "/") {
			folders = append(folders, entry)
		}
		exact = append(exact, strings.TrimSuffix(entry, "/"))
	}
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{.Module.Path}}", "../...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, mod, _ := strings.Cut(line, " ")
		rel := strings.TrimPrefix(strings.TrimPrefix(pkg, mod), "/")
		if !listed(rel, exact, folders) {
			t.Errorf("package %s is not on the Packages block of docs/architecture.md: add a line for it (or for its folder)", rel)
		}
	}
}

func listed(pkg string, exact, folders []string) bool {
	for _, e := range exact {
		if pkg == e {
			return true
		}
	}
	for _, f := range folders {
		if strings.HasPrefix(pkg, f) {
			return true
		}
	}
	return false
}
