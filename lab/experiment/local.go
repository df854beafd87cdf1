package experiment

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"sharpflat/lab/rundir"
	"sharpflat/lab/train"
)

// ErrInterrupted marks an experiment stopped before all its runs were complete; what was
// finished stays, and the same command resumes.
var ErrInterrupted = errors.New("interrupted")

// RunOptions configures RunPlan.
type RunOptions struct {
	Dir  string // the experiment directory
	Jobs int    // arms run at once (0: GOMAXPROCS)
	// Log, if set, gets progress lines: runs done, running, elapsed, ETA.
	Log io.Writer
}

// RunPlan runs every arm of the plan that is not finished in opts.Dir on this machine, jobs
// at a time, each exactly as RunArm would (the warm-up of a group is computed once and
// shared), and returns the results of all arms. When ctx ends, finished runs stay; the error
// wraps ErrInterrupted.
func RunPlan(ctx context.Context, plan Plan, opts RunOptions) (*Results, error) {
	if err := plan.Validate(); err != nil {
		return nil, err
	}
	if err := claimDir(opts.Dir, &plan); err != nil {
		return nil, err
	}
	unlock, err := lockDir(opts.Dir)
	if err != nil {
		return nil, err
	}
	defer unlock()
	jobs := opts.Jobs
	if jobs <= 0 {
		jobs = runtime.GOMAXPROCS(0)
	}
	prog := newProgress(opts.Log, plan.Experiment)
	var pending []Unit
	for _, u := range plan.Units() {
		prog.total++
		if ok, _ := readComplete(armDir(opts.Dir, u.Group, u.Arm), &struct{}{}); ok {
			prog.done++
			prog.skipped++
			continue
		}
		pending = append(pending, u)
		prog.costTotal += float64(u.a.Steps) * stepCost(u.a.Config)
	}
	for gi := range plan.Groups {
		g := &plan.Groups[gi]
		if ok, _ := readComplete(armDir(opts.Dir, g.Name, "warmup"), &struct{}{}); !ok {
			prog.costTotal += float64(g.Warmup) * stepCost(g.Config)
		}
	}
	prog.begin()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w := &warmups{dir: opts.Dir, prog: prog, m: map[string]*warmup{}}
	work := make(chan Unit)
	var wg sync.WaitGroup
	var errMu sync.Mutex
	var firstErr error
	for range min(jobs, max(1, len(pending))) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for u := range work {
				if err := runUnit(ctx, opts.Dir, u, w, prog); err != nil {
					errMu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					errMu.Unlock()
					cancel()
				}
			}
		}()
	}
feed:
	for _, u := range pending {
		select {
		case work <- u:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	prog.end()

	if firstErr != nil && !errors.Is(firstErr, context.Canceled) {
		return nil, firstErr
	}
	res, err := LoadResults(opts.Dir)
	if err != nil {
		return nil, err
	}
	if len(res.Missing) > 0 || firstErr != nil {
		total := len(res.Arms) + len(res.Missing)
		return res, fmt.Errorf("%d of %d runs complete in %s; run the same command again to resume: %w",
			len(res.Arms), total, opts.Dir, ErrInterrupted)
	}
	return res, nil
}

// runUnit runs one arm, taking its group's warm-up from w.
func runUnit(ctx context.Context, dir string, u Unit, w *warmups, prog *progress) error {
	prog.setRunning(1)
	defer prog.setRunning(-1)
	cp, start, err := w.get(ctx, u.g)
	if err != nil {
		return err
	}
	res, err := runArm(ctx, dir, u.g, u.a, cp, start.Point, prog)
	if err != nil {
		return err
	}
	prog.armDone(u.ID, float64(res.Start.TrainLoss), float64(res.End.TrainLoss))
	return nil
}

// warmups computes each group's warm-up once per process, or reads it from a finished one
// on disk.
type warmups struct {
	dir  string
	prog *progress
	mu   sync.Mutex
	m    map[string]*warmup
}

type warmup struct {
	once sync.Once
	cp   *train.Checkpoint
	res  WarmupResult
	err  error
}

func (w *warmups) get(ctx context.Context, g *Group) (*train.Checkpoint, WarmupResult, error) {
	w.mu.Lock()
	x := w.m[g.Name]
	if x == nil {
		x = &warmup{}
		w.m[g.Name] = x
	}
	w.mu.Unlock()
	x.once.Do(func() { x.cp, x.res, x.err = loadOrRunWarmup(ctx, w.dir, g, w.prog) })
	return x.cp, x.res, x.err
}

// loadOrRunWarmup reads group g's finished warm-up from the experiment directory, or runs it.
// Of the processes that need it at once (the tasks of a job array starting together), one
// claims it (DIR/runs/GROUP/.warmup.lock) and trains it; the others wait for the claim and
// then read what it published, so every arm starts from the same bytes and the warm-up is
// trained once. The claim is a flock: a task killed while training it frees it.
func loadOrRunWarmup(ctx context.Context, dir string, g *Group, prog *progress) (*train.Checkpoint, WarmupResult, error) {
	path := armDir(dir, g.Name, "warmup")
	if cp, res, ok, err := readWarmup(path); ok || err != nil {
		return cp, res, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, WarmupResult{}, err
	}
	unlock, err := rundir.WaitLock(ctx, filepath.Join(filepath.Dir(path), warmupLock))
	if err != nil {
		return nil, WarmupResult{}, fmt.Errorf("group %s: claiming its warm-up: %w", g.Name, err)
	}
	defer unlock()
	if cp, res, ok, err := readWarmup(path); ok || err != nil {
		return cp, res, err // published while we waited
	}
	return runWarmup(ctx, dir, g, prog)
}

// warmupLock is the file in DIR/runs/GROUP/ whose lock claims the group's warm-up.
const warmupLock = ".warmup.lock"

// readWarmup reads a finished warm-up and its checkpoint; ok is false when it is not
// finished, or was finished by a sharpflat that kept no checkpoint (it is then trained again:
// it is deterministic).
//
// A checkpoint that is there but cannot be read (damaged: its checksum fails) is an error,
// not "not finished": training the warm-up again would not replace it (publish keeps the
// finished directory it finds), so every arm task would train it again without a word, and a
// flipped bit on shared storage is something the user should know of. readCheckpoint's error
// names the file and says to delete the warm-up's directory to train it again.
func readWarmup(path string) (cp *train.Checkpoint, res WarmupResult, ok bool, err error) {
	if done, err := readComplete(path, &res); err != nil || !done {
		return nil, res, false, err
	}
	cp, err = readCheckpoint(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, res, false, nil
	}
	if err != nil {
		return nil, res, false, err
	}
	return cp, res, true, nil
}
