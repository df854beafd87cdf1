package lab

import (
	"context"
	"errors"
	"fmt"
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
	Steps                   int
	Out                     string // run directory
	SwitchAt                int
	SwitchWDom, SwitchWBulk float64
	Progress                func(Progress) // optional, called on the engine's goroutine
}

// progressRecorder forwards to the run directory and reports progress.
type progressRecorder struct {
	*RunDir
	total int
	fn    func(Progress)
	last  Metrics
}

func (p *progressRecorder) Record(m *Metrics) error {
	p.last = *m
	if p.fn != nil {
		p.fn(Progress{Step: m.Step, Total: p.total, Loss: float64(m.Loss), Sharpness: float64(m.Sharpness),
			Threshold: float64(m.StabilityThreshold), Rate: float64(m.StepsPerSec)})
	}
	return p.RunDir.Record(m)
}

// Headless trains cfg for opts.Steps steps and writes the run directory. When ctx ends
// (Ctrl-C, SIGTERM) it stops after the step in progress and still writes everything up to the
// last completed step, weights included. A divergence ends the run early (the event is in
// events.jsonl, and the error says so); the files are complete either way.
func Headless(ctx context.Context, cfg Config, opts HeadlessOptions) error {
	rd, err := CreateRunDir(opts.Out, cfg)
	if err != nil {
		return err
	}
	rec := &progressRecorder{RunDir: rd, total: opts.Steps, fn: opts.Progress}
	e, err := New(cfg, Options{MaxSteps: opts.Steps, Recorder: rec,
		SwitchAt: opts.SwitchAt, SwitchWDom: opts.SwitchWDom, SwitchWBulk: opts.SwitchWBulk})
	if err != nil {
		rd.Close(nil, nil, 0)
		return err
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	// A diverged engine pauses; headless, nobody will roll it back, so stop.
	e.stopOnDiverge = cancel
	runErr := e.Run(runCtx)
	if opts.Progress != nil && rec.last.Step > 0 {
		m := rec.last
		opts.Progress(Progress{Step: m.Step, Total: opts.Steps, Loss: float64(m.Loss), Sharpness: float64(m.Sharpness),
			Threshold: float64(m.StabilityThreshold), Rate: float64(m.StepsPerSec), Final: true})
	}
	closeErr := rd.Close(e.Model(), e.Theta(), e.Step())
	switch {
	case runErr != nil:
		return runErr
	case closeErr != nil:
		return closeErr
	case e.state == Diverged || e.divergedAt > 0:
		return fmt.Errorf("diverged at step %d (see %s/events.jsonl); files written up to it", e.divergedAt, opts.Out)
	case ctx.Err() != nil:
		return fmt.Errorf("interrupted after step %d; %s is complete up to it: %w", e.Step(), opts.Out, ErrInterrupted)
	}
	return nil
}

// ErrInterrupted marks a run stopped by a signal (its files are complete).
var ErrInterrupted = errors.New("interrupted")
