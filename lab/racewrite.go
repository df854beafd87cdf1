package lab

// Writing a race: one run directory per arm, each the lab's run up to the fork (from the
// spool, as SaveRun copies it) followed by the arm's own steps, with the arm's settings, θ
// and a resume checkpoint. Each is a run like any other: `--compare` overlays them,
// `hessian --run` reads its weights, `run --resume DIR --steps N` goes on with the arm.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"sharpflat/lab/rundir"
	"sharpflat/lab/train"
)

// SaveRace writes the race in progress as one run directory per arm, dir/ARM (ARM: ArmDir
// of its spec). dir may exist but no arm's directory may hold a run already. It runs at a
// step boundary and waits for it; it needs a spool (NewSpooled) and a race.
func (e *Engine) SaveRace(dir string) error {
	if e.spool == nil {
		return fmt.Errorf("this engine keeps no spool (create it with NewSpooled)")
	}
	err := fmt.Errorf("the engine has stopped")
	e.Do(func(*train.Trainer) { err = e.saveRace(dir) })
	return err
}

// ArmDir is the directory name of an arm in a written race: its spec with the characters a
// file name should not hold replaced ("dom", "alpha=0.25", "w=2_0.5", "sgd_lrx2_k=20").
func ArmDir(s ArmSpec) string {
	return strings.NewReplacer("/", "_", ":", "_", "*", "x").Replace(s.String())
}

func (e *Engine) saveRace(dir string) error {
	if e.race == nil {
		return errors.New("no race to write")
	}
	if err := e.spool.Flush(); err != nil {
		return err
	}
	prefix, err := rundir.ReadMetrics(e.spool.Dir)
	if err != nil {
		return err
	}
	events, err := readEvents(filepath.Join(e.spool.Dir, "events.jsonl"))
	if err != nil {
		return err
	}
	// Only what the spool held at the fork is every arm's past.
	prefix, events = prefix[:min(len(prefix), e.race.spoolSteps)], events[:min(len(events), e.race.spoolEvents)]
	var written []string
	for _, a := range e.arms {
		path := filepath.Join(dir, ArmDir(a.spec))
		if err := writeArm(path, a, prefix, events); err != nil {
			return fmt.Errorf("arm %s: %w", a.spec, err)
		}
		written = append(written, path)
	}
	e.log(train.EventCommand, fmt.Sprintf("race written to %s (%s)", dir, strings.Join(written, ", ")))
	return nil
}

// writeArm writes one arm's run directory: the lab's steps and events up to the fork, then
// the arm's, its config, θ and a resume checkpoint whose plan is the steps done.
func writeArm(dir string, a *arm, prefix []train.Metrics, events []train.Event) error {
	w, err := rundir.Create(dir, a.t.Config())
	if err != nil {
		return err
	}
	for i := range prefix {
		if err := w.Record(&prefix[i]); err != nil {
			w.Abandon()
			return err
		}
	}
	if err := w.Events(events); err != nil {
		w.Abandon()
		return err
	}
	for _, x := range a.log {
		if x.m != nil {
			err = w.Record(x.m)
		} else {
			err = w.Event(*x.ev)
		}
		if err != nil {
			w.Abandon()
			return err
		}
	}
	t := a.t
	if t.Diverged() != nil {
		// A diverged arm has no state to go on from: no resume checkpoint (as a headless run
		// that diverges keeps none past the divergence), so --resume refuses it.
		return w.Close(t.Model(), t.Theta(), t.StepCount())
	}
	return w.CloseWith(t.Model(), t.Theta(), t.StepCount(), t.Save(train.WhyResume), plan{Steps: t.StepCount()})
}

// readEvents reads an events.jsonl (a last line cut short is left out).
func readEvents(path string) ([]train.Event, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var evs []train.Event
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var ev train.Event
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			if !bytes.HasSuffix(raw, []byte("\n")) { // the last line, cut short
				break
			}
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		evs = append(evs, ev)
	}
	return evs, sc.Err()
}
