package agenttest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"
)

// BinEnv names a prebuilt agent that Binary returns instead of building
// one (an older build, for a before/after).
const BinEnv = "SLUICE_AGENT_BIN"

// buildTimeout bounds one `go build` on a busy machine.
const buildTimeout = 10 * time.Minute

// ModuleRoot is the directory of go.mod.
func ModuleRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(filepath.Dir(filepath.Dir(file)))
}

// Build runs `go build` of pkg (e.g. "./cmd/sluice") in the module root
// into dir/name, with -race when race is set, and returns the binary.
// ctx bounds the build.
func Build(ctx context.Context, dir, name, pkg string, race bool) (string, error) {
	bin := filepath.Join(dir, name)
	args := []string{"build"}
	if race {
		args = append(args, "-race")
	}
	args = append(args, "-o", bin, pkg)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = ModuleRoot()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go %v: %w\n%s", args, err, out.Bytes())
	}
	return bin, nil
}

// builds caches the binaries of one test process, in a folder that Main
// removes; without Main each test builds into its own t.TempDir().
var builds struct {
	mu   sync.Mutex
	dir  string // "" until Main runs
	bins map[string]*built
}

type built struct {
	once sync.Once
	bin  string
	err  error
}

// Main runs the package's tests (call it from TestMain) so that Bin and
// Binary build each binary once for the whole package, and removes the
// binaries afterwards.
func Main(m *testing.M) int {
	dir, err := os.MkdirTemp("", "sluice-test-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "agenttest: temp dir:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	// Others may run the binaries: a test that drops to nobody does.
	if err := os.Chmod(dir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "agenttest: temp dir:", err)
		return 1
	}
	builds.mu.Lock()
	builds.dir, builds.bins = dir, map[string]*built{}
	builds.mu.Unlock()
	defer func() {
		builds.mu.Lock()
		builds.dir, builds.bins = "", nil
		builds.mu.Unlock()
	}()
	return m.Run()
}

// Bin returns the binary of pkg ("./cmd/logs"), built with -race when race
// is set. It skips the test in -short mode and fails it when the build
// fails.
func Bin(t testing.TB, pkg string, race bool) string {
	t.Helper()
	if testing.Short() {
		t.Skip("runs the built binaries: skipped in -short mode")
	}
	name := path.Base(pkg)
	if race {
		name += "-race"
	}
	builds.mu.Lock()
	dir := builds.dir
	var b *built
	if dir != "" {
		if b = builds.bins[name]; b == nil {
			b = &built{}
			builds.bins[name] = b
		}
	}
	builds.mu.Unlock()
	if b == nil { // no Main: this test's own build
		b, dir = &built{}, t.TempDir()
	}
	b.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
		defer cancel()
		b.bin, b.err = Build(ctx, dir, name, pkg, race)
	})
	if b.err != nil {
		t.Fatalf("build %s: %v", pkg, b.err)
	}
	return b.bin
}

// Binary returns the agent: $SLUICE_AGENT_BIN when set, else ./cmd/sluice
// built with -race when the tests run with it, so the agent's data races
// fail the tests too.
func Binary(t testing.TB) string {
	t.Helper()
	if bin := os.Getenv(BinEnv); bin != "" {
		if testing.Short() {
			t.Skip("runs the agent binary: skipped in -short mode")
		}
		return bin
	}
	return Bin(t, "./cmd/sluice", Race)
}
