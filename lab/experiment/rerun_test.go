package experiment

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// submit.sh run again while the first report job runs puts two reports at work in one
// directory; a reader (a colleague, the other report) must never see summary.csv or a figure
// torn: each file is absent or whole (written to a temporary file and renamed into place).
func TestReportsAtOnceWriteWholeFiles(t *testing.T) {
	dir := t.TempDir()
	if _, err := quickRun(t, context.Background(), "switch", dir, Sweep{Warmup: -1}); err != nil {
		t.Fatal(err)
	}
	files := []string{"summary.csv", "switch.png", "report.md"}
	want := map[string][]byte{}
	for _, f := range files {
		raw, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil || len(raw) == 0 {
			t.Fatalf("%s: %v", f, err)
		}
		want[f] = raw
	}
	x, _ := Lookup("switch")
	base, err := x.BaseConfig(true)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var writers sync.WaitGroup
	for range 2 {
		writers.Add(1)
		go func() {
			defer writers.Done()
			for range 2 {
				if _, _, err := x.Report(base, Sweep{Quick: true, Warmup: -1}, dir, "test"); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	go func() { writers.Wait(); close(done) }()
	torn := map[string]int{}
	for reading := true; reading; {
		select {
		case <-done:
			reading = false
		default:
		}
		for _, f := range files[:2] { // report.md names the time it was written
			raw, err := os.ReadFile(filepath.Join(dir, f))
			if err == nil && !bytes.Equal(raw, want[f]) {
				torn[f]++
			}
		}
	}
	for f, n := range torn {
		t.Errorf("%s was read torn %d times while two reports were written", f, n)
	}
}
