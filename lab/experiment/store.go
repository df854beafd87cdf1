package experiment

// The experiment directory is the only coordination between the processes that run arms
// (one machine, or the tasks of a cluster job array):
//
//	DIR/plan.json                      the plan; a run with another plan is refused
//	DIR/runs/GROUP/warmup/             run directory of the warm-up (steps 1…Warmup),
//	                                   with checkpoint.bin, the state at the switch
//	DIR/runs/GROUP/ARM/                run directory of an arm (steps Warmup+1…Warmup+Steps)
//	DIR/runs/GROUP/*/complete.json     the run's summary
//	DIR/runs/GROUP/.partial-*          a run in progress
//
// A run is written in a partial directory of its own and renamed into place with its
// complete.json, so a run directory is either absent or finished: a killed process leaves
// only a partial directory (removed by the next run of that arm on the same host), and two
// processes that run the same arm both succeed, the first rename winning. Every run is
// deterministic, so the loser's files would be the same.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"sharpflat/lab/rundir"
	"sharpflat/lab/train"
)

func armDir(dir, group, arm string) string { return filepath.Join(dir, "runs", group, arm) }

// planBytes is plan.json's content for a plan.
func planBytes(plan *Plan) ([]byte, error) {
	raw, err := json.MarshalIndent(plan, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(raw, '\n'), nil
}

// claimDir makes the experiment directory and records the plan in it; a directory that
// holds another plan is refused.
func claimDir(dir string, plan *Plan) error {
	if dir == "" {
		return errors.New("experiment: no output directory")
	}
	raw, err := planBytes(plan)
	if err != nil {
		return err
	}
	path := filepath.Join(dir, "plan.json")
	if old, err := os.ReadFile(path); err == nil {
		if !bytes.Equal(old, raw) {
			return fmt.Errorf("%s holds a %s experiment with other settings (see %s): use another --out, or the same command to resume",
				dir, planName(old), path)
		}
		return nil
	}
	if err := os.MkdirAll(filepath.Join(dir, "runs"), 0o755); err != nil {
		return err
	}
	return rundir.WriteFileAtomic(path, raw)
}

func planName(raw []byte) string {
	var p struct {
		Experiment string `json:"experiment"`
	}
	if json.Unmarshal(raw, &p) != nil || p.Experiment == "" {
		return "different"
	}
	return p.Experiment
}

// readPlan reads DIR/plan.json.
func readPlan(dir string) (*Plan, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "plan.json"))
	if err != nil {
		return nil, err
	}
	var p Plan
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, fmt.Errorf("%s/plan.json: %v", dir, err)
	}
	return &p, nil
}

// lockDir makes sure one process at a time runs a whole experiment in a directory: DIR/lock
// holds the owner's process id; a lock whose process is gone is taken over. (Processes that
// each run one arm, --arm, need no lock.)
func lockDir(dir string) (unlock func(), err error) {
	path := filepath.Join(dir, "lock")
	for try := 0; try < 2; try++ {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil {
			fmt.Fprintf(f, "%d\n", os.Getpid())
			f.Close()
			return func() { os.Remove(path) }, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return nil, err
		}
		raw, _ := os.ReadFile(path)
		pid, perr := strconv.Atoi(strings.TrimSpace(string(raw)))
		if perr == nil && pid > 0 && processAlive(pid) {
			return nil, fmt.Errorf("%s is in use by process %d (another sharpflat experiment); wait for it or use another --out", dir, pid)
		}
		os.Remove(path) // stale: its owner is gone
	}
	return nil, fmt.Errorf("%s: could not take the lock", dir)
}

// partial is a run directory being written, renamed into place when complete.
type partial struct {
	path, final string
}

// partialPrefix names a run's partial directories; the host and process id follow, so a
// later run on the same host can tell a dead writer's leftovers from a live one's.
func partialPrefix(final string) string {
	return filepath.Join(filepath.Dir(final), ".partial-"+filepath.Base(final)+"-")
}

// newPartial removes the leftovers of dead writers of the same run on this host and makes a
// fresh partial directory (its parents too).
func newPartial(final string) (*partial, error) {
	host, _ := os.Hostname()
	prefix := partialPrefix(final)
	old, _ := filepath.Glob(prefix + "*")
	for _, p := range old {
		rest := strings.TrimPrefix(p, prefix)
		i := strings.LastIndexByte(rest, '-')
		if i < 0 || rest[:i] != host {
			continue
		}
		if pid, err := strconv.Atoi(rest[i+1:]); err == nil && !processAlive(pid) {
			os.RemoveAll(p)
		}
	}
	path := fmt.Sprintf("%s%s-%d", prefix, host, os.Getpid())
	if err := os.RemoveAll(path); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	return &partial{path: path, final: final}, nil
}

// publish writes complete.json (v) into the partial directory and renames it into place.
// If another process published the same run first, its directory stays and ours goes.
// A final directory without complete.json (left by an older sharpflat) is replaced.
func (p *partial) publish(v any) error {
	raw, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if err := rundir.WriteFileAtomic(filepath.Join(p.path, completeFile), append(raw, '\n')); err != nil {
		return err
	}
	if _, err := os.Stat(p.final); err == nil {
		if ok, _ := readComplete(p.final, &struct{}{}); ok {
			return os.RemoveAll(p.path) // someone else finished it first
		}
		if err := os.RemoveAll(p.final); err != nil {
			return err
		}
	}
	if err := os.Rename(p.path, p.final); err != nil {
		if ok, _ := readComplete(p.final, &struct{}{}); ok {
			return os.RemoveAll(p.path)
		}
		return err
	}
	return rundir.SyncDir(filepath.Dir(p.final))
}

// discard removes the partial directory.
func (p *partial) discard() { os.RemoveAll(p.path) }

// checkpointFile holds a warm-up's state at the switch.
const checkpointFile = "checkpoint.bin"

func writeCheckpoint(dir string, cp *train.Checkpoint) error {
	var b bytes.Buffer
	if _, err := cp.WriteTo(&b); err != nil {
		return err
	}
	return rundir.WriteFileAtomic(filepath.Join(dir, checkpointFile), rundir.Seal(b.Bytes()))
}

// readCheckpoint reads a warm-up's checkpoint, refusing one whose checksum fails: every arm
// starts from it, so a flipped bit on shared storage would change every arm's trajectory.
func readCheckpoint(dir string) (*train.Checkpoint, error) {
	path := filepath.Join(dir, checkpointFile)
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	data, err := rundir.Unseal(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w (delete the warm-up's directory %s to train it again)", path, err, dir)
	}
	cp, err := train.ReadCheckpoint(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w (delete the warm-up's directory %s to train it again)", path, err, dir)
	}
	return cp, nil
}
