package experiment

import (
	"bytes"
	"context"
	"encoding/json"
	"sync"
	"testing"
)

// Two tasks that need a group's warm-up at once (issue 25, item 18): one claims and trains
// it, the other waits and reads it. The warm-up is trained once (counted by the work each
// one's progress recorded) and both get the same checkpoint, byte for byte, and the same
// summary.
func TestWarmupClaimedOnce(t *testing.T) {
	// A warm-up long enough that two unclaimed trainings would overlap.
	dir, g := quickSwitchGroup(t, 300)
	type result struct {
		cp, res []byte
		trained bool
		err     error
	}
	out := make([]result, 2)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range out {
		wg.Add(1)
		go func() {
			defer wg.Done()
			prog := newProgress(nil, "test")
			<-start
			cp, res, err := loadOrRunWarmup(context.Background(), dir, g, prog)
			if err != nil {
				out[i].err = err
				return
			}
			var b bytes.Buffer
			if _, err := cp.WriteTo(&b); err != nil {
				out[i].err = err
				return
			}
			out[i].cp = b.Bytes()
			out[i].res, out[i].err = json.Marshal(res)
			out[i].trained = prog.costDone > 0
		}()
	}
	close(start)
	wg.Wait()
	trained := 0
	for i, o := range out {
		if o.err != nil {
			t.Fatalf("task %d: %v", i, o.err)
		}
		if o.trained {
			trained++
		}
	}
	if trained != 1 {
		t.Errorf("the warm-up was trained %d times, want once", trained)
	}
	if !bytes.Equal(out[0].cp, out[1].cp) || len(out[0].cp) == 0 {
		t.Errorf("the two tasks start from different checkpoints (%d and %d bytes)", len(out[0].cp), len(out[1].cp))
	}
	if !bytes.Equal(out[0].res, out[1].res) {
		t.Errorf("the two tasks see different warm-up summaries:\n%s\n%s", out[0].res, out[1].res)
	}
}

// quickSwitchGroup plans the quick switch experiment with a warm-up of the given length in a
// new claimed directory, and returns the directory and the plan's first group.
func quickSwitchGroup(t *testing.T, warmup int) (string, *Group) {
	t.Helper()
	x, err := Lookup("switch")
	if err != nil {
		t.Fatal(err)
	}
	base, err := x.BaseConfig(true)
	if err != nil {
		t.Fatal(err)
	}
	plan, _, err := x.Plan(base, Sweep{Quick: true, Warmup: warmup})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := claimDir(dir, &plan); err != nil {
		t.Fatal(err)
	}
	return dir, &plan.Groups[0]
}
