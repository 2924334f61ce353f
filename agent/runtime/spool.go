package runtime

import (
	"errors"
	"path/filepath"
	"time"

	"github.com/sluicelog/sluice/agent/config"
	"github.com/sluicelog/sluice/agent/spool"
	"github.com/sluicelog/sluice/collector/syslog"
)

// openSpool opens the disk spool of a syslog input in
// data_dir/spool/<input>, which the data_dir lock already covers. It is
// read back as an input of its own and closed after the outputs.
func (a *Agent) openSpool(in config.Input) (*spool.Spool, error) {
	sc := in.Spool
	sp, err := spool.Open(spool.Config{
		Dir:       filepath.Join(a.cfg.DataDir, "spool", in.Name),
		Input:     in.Name,
		MaxBytes:  int64(sc.MaxBytes),
		Sync:      sc.Sync,
		SyncEvery: sc.SyncInterval.Duration(),
		WhenFull:  sc.WhenFull,
	}, a.pipe, a.logger.With("input", in.Name, "component", "spool"))
	if err != nil {
		return nil, err
	}
	if a.spools == nil {
		a.spools = map[string]*spool.Spool{}
	}
	a.spools[in.Name] = sp
	a.inputs = append(a.inputs, sp)
	return sp, a.registry.Register(sp.Collector())
}

// spoolStatus reads a spool's counters now.
func spoolStatus(sp *spool.Spool) *SpoolStatus {
	st := sp.Stats()
	return &SpoolStatus{
		Bytes: st.Bytes.Load(), Segments: st.Segments.Load(),
		OldestAgeSeconds: sp.OldestAge(time.Now()).Seconds(),
		Spooled:          st.Spooled.Load(), Replayed: st.Replayed.Load(), Dropped: st.DroppedFull.Load(),
		CorruptBytes: st.CorruptBytes.Load(), WriteErrors: st.WriteErrors.Load(),
	}
}

// closeSpools saves each spool's acknowledged position, once the outputs
// are done; what is not acknowledged is sent after the next start.
func (a *Agent) closeSpools() error {
	var errs []error
	for _, sp := range a.spools {
		errs = append(errs, sp.Close())
	}
	return errors.Join(errs...)
}

// A syslog input reports its spool's drops and lag as its own.
var _ syslog.Downstream = (*spool.Spool)(nil)
