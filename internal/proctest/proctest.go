// Package proctest is the old name of internal/agenttest's build and
// buffer helpers, kept until every caller imports agenttest.
//
// Deprecated: use internal/agenttest.
package proctest

import (
	"context"

	"github.com/sluicelog/sluice/internal/agenttest"
)

// Buffer is agenttest.Buffer.
type Buffer = agenttest.Buffer

// ModuleRoot is agenttest.ModuleRoot.
func ModuleRoot() string { return agenttest.ModuleRoot() }

// Build is agenttest.Build.
func Build(ctx context.Context, dir, name, pkg string, race bool) (string, error) {
	return agenttest.Build(ctx, dir, name, pkg, race)
}
