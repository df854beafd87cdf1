package lab

// An interactive session records its run as it goes into a spool directory (a run directory
// in a temporary place), so that "write the run so far" can copy every step, not a
// downsampled history. The spool stays bounded by the run's length only.

import (
	"fmt"
	"os"

	"sharpflat/lab/rundir"
	"sharpflat/lab/train"
)

// NewSpooled returns an engine that records into a fresh spool directory under os.TempDir().
// Call SaveRun to copy the run out, and RemoveSpool when done.
func NewSpooled(cfg train.Config, opts Options) (*Engine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "sharpflat-run-")
	if err != nil {
		return nil, err
	}
	rd, err := rundir.Create(dir, cfg)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	opts.Recorder = rd
	e, err := New(cfg, opts)
	if err != nil {
		rd.Close(nil, nil, 0)
		os.RemoveAll(dir)
		return nil, err
	}
	e.spool = rd
	return e, nil
}

// SaveRun writes the run so far as a run directory at dir (created; it must not hold a run
// already): every step's metrics, the events, the config in force and θ now. It runs at a
// step boundary and waits for it; it returns an error for an engine without a spool. During
// a race it writes every arm, one run directory each under dir (SaveRace): the lab's steps
// up to the fork belong to every arm, and the focused arm alone is not the run.
func (e *Engine) SaveRun(dir string) error {
	if e.spool == nil {
		return fmt.Errorf("this engine keeps no spool (create it with NewSpooled)")
	}
	err := fmt.Errorf("the engine has stopped")
	e.Do(func(t *train.Trainer) {
		if e.race != nil {
			err = e.saveRace(dir)
			return
		}
		err = e.saveRun(t, dir)
	})
	return err
}

func (e *Engine) saveRun(t *train.Trainer, dir string) error {
	if err := e.spool.Flush(); err != nil {
		return err
	}
	c, err := rundir.ClaimNew(dir)
	if err != nil {
		return err
	}
	err = c.WriteConfig(t.Config())
	if err == nil {
		err = c.CopyFrom(e.spool.Dir, "metrics.jsonl", "metrics.csv", "events.jsonl")
	}
	if err == nil {
		err = rundir.WriteWeights(dir, t.Model(), t.Theta(), t.StepCount())
	}
	if err != nil {
		c.Abandon()
		return err
	}
	c.Release()
	e.log(train.EventCommand, fmt.Sprintf("run written to %s (step %d)", dir, t.StepCount()))
	return nil
}

// RemoveSpool closes and deletes the spool directory; call it after Run has returned.
func (e *Engine) RemoveSpool() error {
	if e.spool == nil {
		return nil
	}
	e.spool.Close(nil, nil, 0)
	return os.RemoveAll(e.spool.Dir)
}
