package main

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// dockerIgnore is a .dockerignore read as Docker documents it
// (https://docs.docker.com/build/concepts/context/#dockerignore-files):
// each line a pattern ('*' and '?' within a path segment, '**' across
// segments, a leading '!' keeps again); the last rule that matches a path
// or one of its parent folders decides. Docker's own matcher
// (moby/patternmatcher) is not on the module proxy served here.
type dockerIgnore []struct {
	re   *regexp.Regexp
	keep bool
}

func readDockerIgnore(t *testing.T, file string) dockerIgnore {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var rules dockerIgnore
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		keep := strings.HasPrefix(line, "!")
		pat := strings.Trim(strings.TrimPrefix(line, "!"), "/")
		var re strings.Builder
		for i := 0; i < len(pat); i++ {
			switch {
			case strings.HasPrefix(pat[i:], "**/"):
				re.WriteString("(.*/)?")
				i += 2
			case strings.HasPrefix(pat[i:], "**"):
				re.WriteString(".*")
				i++
			case pat[i] == '*':
				re.WriteString("[^/]*")
			case pat[i] == '?':
				re.WriteString("[^/]")
			default:
				re.WriteString(regexp.QuoteMeta(pat[i : i+1]))
			}
		}
		rules = append(rules, struct {
			re   *regexp.Regexp
			keep bool
		}{regexp.MustCompile("^" + re.String() + "$"), keep})
	}
	return rules
}

// sent reports whether path (slash-separated, relative) is in the context.
func (d dockerIgnore) sent(path string) bool {
	sent := true
	for _, r := range d {
		for p := path; p != "." && p != ""; p = filepath.Dir(p) {
			if r.re.MatchString(p) {
				sent = r.keep
				break
			}
		}
	}
	return sent
}

// buildLine is the go build command of the Dockerfile's build stage, with
// its build arguments set and the output moved to out.
func buildLine(t *testing.T, dockerfile string, args map[string]string, out string) string {
	t.Helper()
	raw, err := os.ReadFile(dockerfile)
	if err != nil {
		t.Fatal(err)
	}
	joined := strings.ReplaceAll(string(raw), "\\\n", " ")
	var cmd string
	for _, l := range strings.Split(joined, "\n") {
		if strings.HasPrefix(l, "RUN ") && strings.Contains(l, "go build") {
			cmd = l
		}
	}
	if cmd == "" {
		t.Fatal("the Dockerfile has no RUN ... go build")
	}
	cmd = regexp.MustCompile(`--mount=\S+`).ReplaceAllString(strings.TrimPrefix(cmd, "RUN "), "")
	for k, v := range args {
		cmd = strings.ReplaceAll(cmd, "${"+k+"}", v)
	}
	if strings.Contains(cmd, "${") {
		t.Fatalf("build line has an argument the test does not set: %s", cmd)
	}
	if !strings.Contains(cmd, "-o /out/sluice ") {
		t.Fatalf("build line does not write /out/sluice: %s", cmd)
	}
	return strings.Replace(cmd, "-o /out/sluice ", "-o "+out+" ", 1)
}

// TestDockerfileBuild runs the image's build stage on the host, on a copy
// of exactly the files .dockerignore sends, and checks the binary reports
// the version and revision passed as build arguments.
func TestDockerfileBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the agent")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	ignore := readDockerIgnore(t, filepath.Join(root, ".dockerignore"))
	ctx := t.TempDir()
	sentBytes := 0
	err = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if rel == "." {
			return nil
		}
		if d.IsDir() {
			// .git and bin are big; nothing under them may be sent.
			if (rel == ".git" || rel == "bin") && !ignore.sent(rel+"/x") {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Type()&os.ModeSymlink != 0 || !ignore.sent(rel) {
			return nil
		}
		raw, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		sentBytes += len(raw)
		dst := filepath.Join(ctx, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		return os.WriteFile(dst, raw, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{".git/HEAD", "bin/sluice", ".demo/logs/x.log", "bench/RESULTS.md", "e2e/e2e_test.go", "agent/config/config_test.go", "cmd/logs/main.go"} {
		if ignore.sent(p) {
			t.Errorf(".dockerignore sends %s", p)
		}
	}
	t.Logf("build context: %d KiB", sentBytes/1024)
	if sentBytes > 8<<20 {
		t.Errorf("build context is %d MiB", sentBytes>>20)
	}

	out := filepath.Join(t.TempDir(), "sluice")
	line := buildLine(t, filepath.Join(root, "Dockerfile"), map[string]string{
		"TARGETOS": "linux", "TARGETARCH": runtimeArch(t), "VERSION": "9.8.7", "REVISION": "0123456789abcdef",
	}, out)
	cmd := exec.Command("sh", "-c", line)
	cmd.Dir = ctx
	// As in the golang image: no GOFLAGS of this machine's, no workspace.
	cmd.Env = append(os.Environ(), "GOFLAGS=", "GOWORK=off")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", line, err, b)
	}
	got, err := exec.Command(out, "-version").Output()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(got), "sluice 9.8.7 (revision 0123456789abcdef, go") {
		t.Errorf("-version printed %q", got)
	}
}

func runtimeArch(t *testing.T) string {
	out, err := exec.Command("go", "env", "GOARCH").Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}

// TestVersionFromBuildInfo builds without any stamp, as a plain `go build`
// in a checkout does: the version falls back to the commit the toolchain
// recorded, never a bare "dev".
func TestVersionFromBuildInfo(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the agent")
	}
	head, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skipf("not a git checkout: %v", err)
	}
	rev := strings.TrimSpace(string(head))
	// The toolchain stamps a checkout whose .git is a folder; in a `git
	// worktree` (.git is a file) it records nothing, and "dev" is right.
	if fi, err := os.Stat("../../.git"); err != nil || !fi.IsDir() {
		t.Skip("a git worktree: the Go toolchain records no VCS stamp here")
	}
	out := filepath.Join(t.TempDir(), "sluice")
	build := exec.Command("go", "build", "-o", out, ".")
	// This machine's environment sets -buildvcs=false; a checkout's default
	// is to stamp.
	build.Env = append(os.Environ(), "GOFLAGS=-buildvcs=true")
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	got, err := exec.Command(out, "-version").Output()
	if err != nil {
		t.Fatal(err)
	}
	want := regexp.MustCompile(`^sluice dev-` + rev[:12] + `(-dirty)? \(revision ` + rev + `(-dirty)?, go[0-9.]+\S*\)\n$`)
	if !want.Match(got) {
		t.Errorf("-version printed %q, want %s", got, want)
	}
}

// TestDockerfilePins checks what the image promises without building it:
// every base image pinned by digest with its tag in the comment above, a
// build stage on the build machine's platform cross-compiling to the
// target's, and the OCI labels an operator's tooling reads.
func TestDockerfilePins(t *testing.T) {
	raw, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(raw), "\n")
	from := regexp.MustCompile(`^FROM (--platform=\S+ )?(\S+)@sha256:[0-9a-f]{64}( AS \w+)?$`)
	froms := 0
	for i, l := range lines {
		if !strings.HasPrefix(l, "FROM ") {
			continue
		}
		froms++
		m := from.FindStringSubmatch(l)
		if m == nil {
			t.Errorf("line %d is not pinned by digest: %s", i+1, l)
			continue
		}
		if i == 0 || lines[i-1] != "# "+m[2] {
			t.Errorf("line %d: the comment above does not name the tag %s", i+1, m[2])
		}
	}
	if froms != 2 {
		t.Errorf("%d FROM lines, want the build stage and the runtime stage", froms)
	}
	for _, want := range []string{
		"FROM --platform=$BUILDPLATFORM ",
		"GOOS=${TARGETOS} GOARCH=${TARGETARCH}",
		`org.opencontainers.image.source="https://github.com/sluicelog/sluice"`,
		`org.opencontainers.image.version="${VERSION}"`,
		`org.opencontainers.image.revision="${REVISION}"`,
		"--platform linux/amd64,linux/arm64",
	} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("the Dockerfile lacks %s", want)
		}
	}
}
