package tui

import (
	"encoding/base64"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sharpflat/lab"
)

// v shows the picture (the engine paints it only then), y shares the setup as a command
// and copies it by OSC 52, o lists the saved runs and shows the ones chosen.
func TestViewKeys(t *testing.T) {
	clip := &clipboard{wrote: make(chan string, 1)}
	runs := t.TempDir()
	for _, a := range compareArms {
		writeCompareRun(t, filepath.Join(runs, a.name), 1, 40, 20, a.wDom, a.wBulk, 1)
	}
	k := newKeyLab(t, Options{Clipboard: clip, RunDir: runs})

	k.press("v")
	k.eventually("a picture", func(s lab.Snapshot) bool { return s.Picture != nil })
	k.sync()
	if !k.m.picture || !strings.Contains(k.m.View(), "principal components") && !strings.Contains(k.m.View(), "PC1") {
		t.Errorf("v does not show the projection of the demo's test points:\n%s", k.m.View())
	}
	k.press("v")
	k.eventually("no picture", func(s lab.Snapshot) bool { return s.Picture == nil })

	runCmd(k.press("y"))
	var copied string
	select {
	case copied = <-clip.wrote:
	case <-time.After(budget):
		t.Fatal("y copied nothing")
	}
	want := "sharpflat --preset demo --alpha 0.5 --seed 1 --lr 0.1 --hessian-set 256"
	if k.m.shared != want || !strings.Contains(k.m.View(), want) {
		t.Errorf("y shares %q, want %q", k.m.shared, want)
	}
	if !strings.Contains(copied, "\x1b]52;c;"+base64.StdEncoding.EncodeToString([]byte(want))) {
		t.Errorf("y did not copy by OSC 52: %q", copied)
	}
	k.press("x")
	if k.m.shared != "" {
		t.Error("another key does not hide the shared command")
	}

	k.press("o")
	if k.m.list.kind != listRuns || len(k.m.list.entries) != 3 {
		t.Fatalf("o does not list the 3 runs under the run directory:\n%s", k.m.View())
	}
	k.press("space")
	k.press("down")
	k.press("space")
	k.press("enter")
	if len(k.m.runs) != 2 || !strings.Contains(k.m.View(), "◇") || !strings.Contains(k.m.View(), "△") {
		t.Errorf("o, space, ↓, space, enter does not compare two runs (%d):\n%s", len(k.m.runs), k.m.View())
	}
}

// clipboard is a terminal's output as the OSC 52 copy sees it: each write is sent on.
type clipboard struct{ wrote chan string }

func (c *clipboard) Write(p []byte) (int, error) {
	c.wrote <- string(p)
	return len(p), nil
}
