package runtime

import (
	"errors"
	"time"

	"github.com/sluicelog/sluice/agent/pipeline"
)

// ErrDeliveryCut is in the error of Run when shutdown_timeout passed
// before the outputs acknowledged everything: delivery was cut, the
// checkpoints cover only what was acknowledged, and the rest of the files
// is read again after a restart (syslog messages still in the agent are
// lost, and counted).
var ErrDeliveryCut = pipeline.ErrCut

// Exit codes of the agent (README, "Running the agent").
const (
	ExitClean = 0 // stopped and drained: everything read was acknowledged
	ExitError = 1 // stopped on an error, or failed to start
	ExitCut   = 3 // stopped at shutdown_timeout with delivery cut (ErrDeliveryCut)
)

// ExitCode maps the error of Supervise or Run to the process exit code:
// ExitCut when the cut at shutdown_timeout is the only problem, ExitError
// for anything else.
func ExitCode(err error) int {
	switch {
	case err == nil:
		return ExitClean
	case onlyIs(err, ErrDeliveryCut):
		return ExitCut
	default:
		return ExitError
	}
}

// onlyIs reports whether err is target, or joins errors that all are.
func onlyIs(err, target error) bool {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs := j.Unwrap()
		for _, e := range errs {
			if !onlyIs(e, target) {
				return false
			}
		}
		return len(errs) > 0
	}
	return errors.Is(err, target)
}

// cut says, once, that the deadline ended delivery, and what was left.
func (a *Agent) cut(pipeErr, drainErr error, timeout time.Duration) {
	a.logger.Warn("shutdown_timeout reached: delivery cut; checkpoints cover only acknowledged lines, the rest of the files is read again on restart",
		"shutdown_timeout", timeout.String(), "unacknowledged_bytes", a.pipe.MemoryUsed(),
		"batches_queued", a.pipe.RingLen(), "workers_cut", pipeErr != nil, "err", drainErr)
}
