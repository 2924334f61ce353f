package kubetest

import (
	"context"
	"fmt"
	"os"
	"sync"
)

// Program is a TB for programs, such as the bench harness: Fatal runs the
// cleanups and exits with status 1, as a failed test would end; Close runs
// them at a normal end.
type Program struct {
	ctx context.Context
	log func(format string, args ...any)

	mu       sync.Mutex
	cleanups []func()
	failed   bool
}

// NewProgram returns a TB that logs through log.
func NewProgram(ctx context.Context, log func(format string, args ...any)) *Program {
	return &Program{ctx: ctx, log: log}
}

func (p *Program) Helper() {}

func (p *Program) Fatal(args ...any) { p.fail(fmt.Sprint(args...)) }

func (p *Program) Fatalf(format string, args ...any) { p.fail(fmt.Sprintf(format, args...)) }

func (p *Program) fail(msg string) {
	p.mu.Lock()
	p.failed = true
	p.mu.Unlock()
	p.log("%s", msg)
	p.Close()
	os.Exit(1)
}

func (p *Program) Logf(format string, args ...any) { p.log(format, args...) }

// TempDir makes a directory that Close removes.
func (p *Program) TempDir() string {
	dir, err := os.MkdirTemp("", "kubetest-")
	if err != nil {
		p.Fatalf("kubetest: %v", err)
	}
	p.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func (p *Program) Cleanup(f func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cleanups = append(p.cleanups, f)
}

func (p *Program) Failed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.failed
}

func (p *Program) Context() context.Context { return p.ctx }

// Close runs the cleanups, the last registered first, once.
func (p *Program) Close() {
	p.mu.Lock()
	fs := p.cleanups
	p.cleanups = nil
	p.mu.Unlock()
	for i := len(fs) - 1; i >= 0; i-- {
		fs[i]()
	}
}
