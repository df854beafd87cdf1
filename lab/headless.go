package lab

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"sharpflat/lab/rundir"
	"sharpflat/lab/train"
	"sharpflat/nn"
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
	Steps int    // 0: write θ₀ (and the resume checkpoint) and stop
	Out   string // run directory
	// SwitchAt > 0 sets (w_dom, w_bulk) to (SwitchWDom, SwitchWBulk) once SwitchAt steps are
	// done: the protocol of Song et al. (train with SGD, then switch to Dom- or Bulk-SGD).
	SwitchAt                int
	SwitchWDom, SwitchWBulk float64
	// CheckpointEvery is the number of steps between resume checkpoints; 0 takes one every
	// CheckpointInterval of wall time.
	CheckpointEvery int
	// InitWeights, when set, is a safetensors file (PyTorch nn.Linear layout) to start from
	// instead of the seeded initialisation; its architecture must be the configuration's.
	InitWeights string
	Progress    func(Progress) // optional
}

// CheckpointInterval is how often a headless run writes its resume checkpoint when
// CheckpointEvery is 0: the most a SIGKILL or a power cut can cost.
const CheckpointInterval = 10 * time.Second

// plan is what a run directory's resume checkpoint keeps of the options, so that
// `run --resume DIR` goes on as the run was asked to.
type plan struct {
	Steps           int     `json:"steps"`
	SwitchAt        int     `json:"switch_at,omitempty"`
	SwitchWDom      float64 `json:"switch_w_dom,omitempty"`
	SwitchWBulk     float64 `json:"switch_w_bulk,omitempty"`
	CheckpointEvery int     `json:"checkpoint_every,omitempty"`
}

// ErrInterrupted marks a run stopped by a signal (its files are complete).
var ErrInterrupted = errors.New("interrupted")

// Headless trains cfg for opts.Steps steps and writes the run directory, which it claims
// first (see rundir.ClaimNew). When ctx ends (Ctrl-C, SIGTERM) it stops after the step in
// progress and still writes everything up to the last completed step, weights and resume
// checkpoint included. A divergence ends the run early (the event is in events.jsonl, and
// the error says so); the files are complete either way. A run that fails or is stopped
// before its first step leaves nothing behind.
func Headless(ctx context.Context, cfg train.Config, opts HeadlessOptions) error {
	if opts.Steps < 0 {
		return fmt.Errorf("steps %d, want ≥ 0", opts.Steps)
	}
	t, err := train.New(cfg)
	if err != nil {
		return err
	}
	if opts.InitWeights != "" {
		if err := startFrom(t, opts.InitWeights); err != nil {
			return err
		}
	}
	rd, err := rundir.Create(opts.Out, cfg)
	if err != nil {
		return err
	}
	if opts.InitWeights != "" {
		rd.Event(train.Event{Step: 0, Time: time.Now(), Kind: train.EventCommand, Text: "started from the weights in " + opts.InitWeights})
	}
	p := plan{Steps: opts.Steps, SwitchAt: opts.SwitchAt, SwitchWDom: opts.SwitchWDom, SwitchWBulk: opts.SwitchWBulk, CheckpointEvery: opts.CheckpointEvery}
	if err := rd.Checkpoint(t.Save(train.WhyStart), p); err != nil {
		rd.Abandon()
		return err
	}
	return loop(ctx, t, rd, p, opts.Progress)
}

// ResumeOptions configures Resume.
type ResumeOptions struct {
	Steps    int // the total to reach; 0: the run's own --steps
	Progress func(Progress)
}

// Resume continues the run in dir from its resume checkpoint (see rundir.Resume), to the
// number of steps it was started with or opts.Steps. The metrics it writes are those the run
// would have written uninterrupted, bit for bit (the clock fields aside).
func Resume(ctx context.Context, dir string, opts ResumeOptions) error {
	var p plan
	rd, cp, err := rundir.Resume(dir, &p)
	if err != nil {
		return err
	}
	t, err := train.Restore(cp)
	if err != nil {
		rd.Abandon()
		return err
	}
	if opts.Steps > 0 {
		p.Steps = opts.Steps
	}
	if t.StepCount() >= p.Steps {
		rd.Abandon()
		return fmt.Errorf("%s is complete at step %d: give --steps N above it to go on: %w", dir, t.StepCount(), ErrNothingToDo)
	}
	rd.Event(train.Event{Step: t.StepCount(), Time: time.Now(), Kind: train.EventCommand,
		Text: fmt.Sprintf("resumed at step %d (to %d)", t.StepCount(), p.Steps)})
	return loop(ctx, t, rd, p, opts.Progress)
}

// ErrNothingToDo marks a resume of a run that has reached its steps.
var ErrNothingToDo = errors.New("nothing to do")

// startFrom loads a weights file into a new trainer, checking its architecture.
func startFrom(t *train.Trainer, path string) error {
	c := t.Config()
	m, theta, err := nn.LoadMLP(path, c.Act, c.Loss)
	if err != nil {
		return fmt.Errorf("--init-weights: %w", err)
	}
	if !slices.Equal(m.Widths, t.Model().Widths) {
		return fmt.Errorf("--init-weights: %s holds a %s network; the configuration builds %s", path, m, t.Model())
	}
	if err := t.StartFrom(theta); err != nil {
		return fmt.Errorf("--init-weights %s: %v", path, err)
	}
	return nil
}

// loop trains t to p.Steps, recording into rd, with a resume checkpoint on p's schedule, and
// closes rd.
func loop(ctx context.Context, t *train.Trainer, rd *rundir.Writer, p plan, progress func(Progress)) error {
	report := func(m *train.Metrics, final bool) {
		if progress != nil {
			progress(Progress{Step: m.Step, Total: p.Steps, Loss: float64(m.Loss), Sharpness: float64(m.Sharpness),
				Threshold: float64(m.StabilityThreshold), Rate: float64(m.StepsPerSec), Final: final})
		}
	}
	start := t.StepCount()
	lastCkpt, lastCkptAt := start, time.Now()
	// A signal stops a refresh within one Hessian-vector product (the Song protocol's take
	// minutes); the step it interrupts changed nothing, and everything before it is written.
	t.SetInterrupt(func() bool { return ctx.Err() != nil })
	defer t.SetInterrupt(nil)
	_, runErr := train.Drive(ctx, []*train.Trainer{t}, train.DriveOptions{
		Until: func(_ int, t *train.Trainer) bool { return t.StepCount() >= p.Steps },
		Before: func(_ int, t *train.Trainer) error {
			if p.SwitchAt > 0 && t.StepCount() == p.SwitchAt {
				c := t.Config()
				c.SetRule(train.Blend{Dom: p.SwitchWDom, Bulk: p.SwitchWBulk})
				return t.Apply(c)
			}
			return nil
		},
		Record: func(_ int, m *train.Metrics, ev []train.Event) error {
			if err := rd.Record(m); err != nil {
				return fmt.Errorf("recording step %d: %w", m.Step, err)
			}
			return rd.Events(ev)
		},
		After: func(_ int, t *train.Trainer, m *train.Metrics) error {
			report(m, false)
			if t.Diverged() != nil {
				return nil // the drive stops here; the last checkpoint stays
			}
			due := time.Since(lastCkptAt) >= CheckpointInterval
			if p.CheckpointEvery > 0 {
				due = t.StepCount()-lastCkpt >= p.CheckpointEvery
			}
			if !due {
				return nil
			}
			if err := rd.Checkpoint(t.Save(train.WhyResume), p); err != nil {
				return err
			}
			lastCkpt, lastCkptAt = t.StepCount(), time.Now()
			return nil
		},
	})
	if t.StepCount() == start && start == 0 && p.Steps > 0 {
		rd.Abandon() // stopped before the first step: nothing worth keeping
		if runErr != nil {
			return runErr
		}
		return fmt.Errorf("interrupted before the first step; nothing was written: %w", ErrInterrupted)
	}
	if last := t.Last(); last.Step > start {
		report(&last, true)
	}
	if runErr == nil {
		runErr = rd.Events(t.TakeEvents())
	}
	var closeErr error
	if runErr == nil && t.Diverged() == nil {
		closeErr = rd.CloseWith(t.Model(), t.Theta(), t.StepCount(), t.Save(train.WhyResume), p)
	} else {
		closeErr = rd.Close(t.Model(), t.Theta(), t.StepCount()) // the last checkpoint stays
	}
	switch {
	case runErr != nil:
		return runErr
	case closeErr != nil:
		return closeErr
	case t.Diverged() != nil:
		return fmt.Errorf("diverged at step %d (see %s/events.jsonl); files written up to it", t.Diverged().Step, rd.Dir)
	case ctx.Err() != nil:
		return fmt.Errorf("interrupted after step %d; %s is complete up to it (continue with --resume %s): %w", t.StepCount(), rd.Dir, rd.Dir, ErrInterrupted)
	}
	return nil
}
