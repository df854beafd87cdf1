package lab

import (
	"context"
	"errors"
	"fmt"

	"sharpflat/lab/rundir"
	"sharpflat/lab/train"
)

// Progress is what a headless run reports as it goes.
type Progress struct {
	Step, Total          int
	Loss                 float64
	Sharpness, Threshold float64
	Rate                 float64 // steps per second
	Final                bool
}

// HeadlessOptions configures Headless.
type HeadlessOptions struct {
	Steps int
	Out   string // run directory
	// SwitchAt > 0 sets (w_dom, w_bulk) to (SwitchWDom, SwitchWBulk) once SwitchAt steps are
	// done: the protocol of Song et al. (train with SGD, then switch to Dom- or Bulk-SGD).
	SwitchAt                int
	SwitchWDom, SwitchWBulk float64
	Progress                func(Progress) // optional
}

// ErrInterrupted marks a run stopped by a signal (its files are complete).
var ErrInterrupted = errors.New("interrupted")

// Headless trains cfg for opts.Steps steps and writes the run directory. When ctx ends
// (Ctrl-C, SIGTERM) it stops after the step in progress and still writes everything up to the
// last completed step, weights included. A divergence ends the run early (the event is in
// events.jsonl, and the error says so); the files are complete either way.
func Headless(ctx context.Context, cfg train.Config, opts HeadlessOptions) error {
	t, err := train.New(cfg)
	if err != nil {
		return err
	}
	rd, err := rundir.Create(opts.Out, cfg)
	if err != nil {
		return err
	}
	report := func(m *train.Metrics, final bool) {
		if opts.Progress != nil {
			opts.Progress(Progress{Step: m.Step, Total: opts.Steps, Loss: float64(m.Loss), Sharpness: float64(m.Sharpness),
				Threshold: float64(m.StabilityThreshold), Rate: float64(m.StepsPerSec), Final: final})
		}
	}
	var runErr error
	for t.StepCount() < opts.Steps && ctx.Err() == nil {
		if opts.SwitchAt > 0 && t.StepCount() == opts.SwitchAt {
			c := t.Config()
			c.WDom, c.WBulk = opts.SwitchWDom, opts.SwitchWBulk
			if runErr = t.Apply(c); runErr != nil {
				break
			}
		}
		m, err := t.Step()
		if err != nil {
			runErr = err
			break
		}
		if runErr = rd.Record(&m); runErr != nil {
			runErr = fmt.Errorf("recording step %d: %w", m.Step, runErr)
			break
		}
		if runErr = rd.Events(t.TakeEvents()); runErr != nil {
			break
		}
		report(&m, false)
		if t.Diverged() != nil {
			break
		}
	}
	if last := t.Last(); last.Step > 0 {
		report(&last, true)
	}
	if runErr == nil {
		runErr = rd.Events(t.TakeEvents())
	}
	closeErr := rd.Close(t.Model(), t.Theta(), t.StepCount())
	switch {
	case runErr != nil:
		return runErr
	case closeErr != nil:
		return closeErr
	case t.Diverged() != nil:
		return fmt.Errorf("diverged at step %d (see %s/events.jsonl); files written up to it", t.Diverged().Step, opts.Out)
	case ctx.Err() != nil:
		return fmt.Errorf("interrupted after step %d; %s is complete up to it: %w", t.StepCount(), opts.Out, ErrInterrupted)
	}
	return nil
}
