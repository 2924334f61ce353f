package corpus

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDirIsBesideTheModuleRoot(t *testing.T) {
	t.Setenv("SLUICE_CORPUS", "")
	wd, err := os.Getwd()
	require.NoError(t, err)
	dir, err := Dir()
	require.NoError(t, err)
	// This package is internal/corpus under the root.
	require.Equal(t, filepath.Join(wd, "..", "..", "..", "shared", "corpus"), dir)
}

func TestLookupFindsTheOverride(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(dir, "esbulk"), 0o755))
	t.Setenv("SLUICE_CORPUS", dir)
	require.Equal(t, filepath.Join(dir, "esbulk"), Lookup(t, "esbulk"))
	path, ok := Optional(t, "esbulk")
	require.True(t, ok)
	require.Equal(t, filepath.Join(dir, "esbulk"), path)
}

// TestAbsentSkipsOutsideCI runs helperAbsent in a child test process, as
// a plain clone would: it is skipped with one line naming the path, and
// the skip is recorded in $SLUICE_CORPUS_SKIPS.
func TestAbsentSkipsOutsideCI(t *testing.T) {
	dir := t.TempDir()
	skips := filepath.Join(dir, "skips")
	out, code := runHelper(t, "TestHelperAbsent", "CI=", "SLUICE_CORPUS="+dir, "SLUICE_CORPUS_SKIPS="+skips)
	want := filepath.Join(dir, "esbulk")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "--- SKIP: TestHelperAbsent")
	require.Contains(t, out, "corpus absent: "+want)
	require.NotContains(t, out, "after Lookup")
	got, err := os.ReadFile(skips)
	require.NoError(t, err)
	require.Equal(t, "internal/corpus TestHelperAbsent: skipped, corpus absent at "+want+"\n", string(got))
}

func TestAbsentFailsInCI(t *testing.T) {
	dir := t.TempDir()
	out, code := runHelper(t, "TestHelperAbsent", "CI=true", "SLUICE_CORPUS="+dir, "SLUICE_CORPUS_SKIPS=")
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "--- FAIL: TestHelperAbsent")
	require.Contains(t, out, "corpus absent: "+filepath.Join(dir, "esbulk"))
}

func TestOptionalGoesOnOutsideCI(t *testing.T) {
	dir := t.TempDir()
	out, code := runHelper(t, "TestHelperOptional", "CI=false", "SLUICE_CORPUS="+dir, "SLUICE_CORPUS_SKIPS=")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "--- PASS: TestHelperOptional")
	require.Contains(t, out, "optional ok=false")

	out, code = runHelper(t, "TestHelperOptional", "CI=1", "SLUICE_CORPUS="+dir, "SLUICE_CORPUS_SKIPS=")
	require.Equal(t, 1, code, out)
	require.NotContains(t, out, "optional ok=")
}

// The helpers run only in the child process runHelper starts.
func TestHelperAbsent(t *testing.T) {
	if os.Getenv("CORPUS_HELPER") == "" {
		t.Skip("run by TestAbsent*")
	}
	Lookup(t, "esbulk")
	t.Log("after Lookup")
}

func TestHelperOptional(t *testing.T) {
	if os.Getenv("CORPUS_HELPER") == "" {
		t.Skip("run by TestOptionalGoesOnOutsideCI")
	}
	_, ok := Optional(t, "esbulk")
	t.Logf("optional ok=%v", ok)
}

// runHelper runs one test of this binary with env added and returns its
// output and exit code.
func runHelper(t *testing.T, test string, env ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run", "^"+test+"$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), append([]string{"CORPUS_HELPER=1"}, env...)...)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return string(out), exit.ExitCode()
	}
	require.NoError(t, err, string(out))
	return strings.TrimSpace(string(out)), 0
}
