package lab

import (
	"context"
	"path/filepath"
	"testing"

	"sharpflat/lab/train"
)

// The switch of a headless run (--switch-at, --to) replaces a rule that is not a blend: a run
// started under Dom-damped and switched to Bulk-SGD takes Bulk-SGD steps after the switch.
func TestHeadlessSwitchReplacesARule(t *testing.T) {
	c := small()
	c.SetRule(train.DomDamped{C: 1})
	dir := filepath.Join(t.TempDir(), "run")
	if err := Headless(context.Background(), c, HeadlessOptions{Steps: 6, Out: dir, SwitchAt: 3, SwitchWDom: 0, SwitchWBulk: 1}); err != nil {
		t.Fatal(err)
	}
	lines := readJSONL(t, filepath.Join(dir, "metrics.jsonl"))
	if len(lines) != 6 {
		t.Fatalf("%d steps written, want 6", len(lines))
	}
	for i, l := range lines {
		update, _ := l["update"].(string)
		want := ""
		if i < 3 {
			want = "dom-damped"
		}
		if update != want {
			t.Errorf("step %d: update %q, want %q", i+1, update, want)
		}
		if i >= 3 && (l["w_dom"] != 0.0 || l["w_bulk"] != 1.0) {
			t.Errorf("step %d after the switch: w_dom %v, w_bulk %v, want Bulk-SGD (0, 1)", i+1, l["w_dom"], l["w_bulk"])
		}
	}
}
