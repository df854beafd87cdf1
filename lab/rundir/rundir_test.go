package rundir

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"sharpflat/lab/train"
	"sharpflat/nn"
)

// A run written by a Writer reads back as it was recorded: the metrics line by line, the
// config, the CSV's shape and θ in the weights file.
func TestWriterRoundTrip(t *testing.T) {
	cfg, err := train.Preset("demo")
	if err != nil {
		t.Fatal(err)
	}
	cfg.N, cfg.EvalEvery = 200, 2
	tr, err := train.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "run")
	w, err := Create(dir, tr.Config())
	if err != nil {
		t.Fatal(err)
	}
	var want []train.Metrics
	for range 5 {
		m, err := tr.Step()
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Record(&m); err != nil {
			t.Fatal(err)
		}
		want = append(want, m)
	}
	if err := w.Events(tr.TakeEvents()); err != nil {
		t.Fatal(err)
	}
	theta := tr.Theta()
	if err := w.Close(tr.Model(), theta, 5); err != nil {
		t.Fatal(err)
	}

	got, err := ReadMetrics(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("read %d metrics, wrote %d", len(got), len(want))
	}
	for i := range want {
		a, _ := json.Marshal(want[i])
		b, _ := json.Marshal(got[i])
		if string(a) != string(b) {
			t.Errorf("step %d read back differs:\n%s\n%s", i+1, a, b)
		}
	}
	if c, err := ReadConfig(dir); err != nil || !reflect.DeepEqual(c, tr.Config()) {
		t.Errorf("config read back: %v\n%+v\n%+v", err, c, tr.Config())
	}
	raw, _ := os.ReadFile(filepath.Join(dir, "metrics.csv"))
	lines := strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n")
	if len(lines) != 1+len(want) {
		t.Fatalf("metrics.csv has %d lines, want a header and %d rows", len(lines), len(want))
	}
	cols := strings.Count(lines[0], ",")
	for i, l := range lines[1:] {
		if strings.Count(l, ",") != cols {
			t.Errorf("metrics.csv row %d has %d commas, the header %d", i+1, strings.Count(l, ","), cols)
		}
	}
	_, th, err := nn.LoadMLP(filepath.Join(dir, "weights.safetensors"), cfg.Act, cfg.Loss)
	if err != nil || !reflect.DeepEqual(th, theta) {
		t.Errorf("weights read back differ from θ (err %v)", err)
	}

	// A directory that holds a run is refused, and left as it was.
	if _, err := Create(dir, tr.Config()); err == nil || !strings.Contains(err.Error(), "already holds a run") {
		t.Errorf("second Create in a run directory: %v", err)
	}
	if again, _ := ReadMetrics(dir); len(again) != len(want) {
		t.Errorf("refused Create changed metrics.jsonl: %d lines", len(again))
	}
}

// WriteFileAtomic replaces the file whole and leaves no temporary file behind.
func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f.json")
	for _, body := range []string{"first, and longer\n", "second\n"} {
		if err := WriteFileAtomic(p, []byte(body)); err != nil {
			t.Fatal(err)
		}
		if got, _ := os.ReadFile(p); string(got) != body {
			t.Errorf("read %q, wrote %q", got, body)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only f.json", len(entries))
	}
	if err := WriteFileAtomic(filepath.Join(dir, "missing", "f"), nil); err == nil {
		t.Error("write into a missing directory succeeded")
	}
}

// metrics.csv has the columns it had before λ_{k+1} existed, whether the trainer computes it
// or not; metrics.jsonl carries bulk_top only when it does, and reads back NaN without it.
func TestBulkTopInTheFiles(t *testing.T) {
	want := "step,loss,grad_norm,train_loss,train_acc,test_loss,test_acc,sharpness,stability_threshold," +
		"chi_grad,chi_full_grad,bulk_share,alpha,w_dom,w_bulk,lr,momentum,optimizer,batch,k,refresh_every," +
		"refreshed,overlap,refresh_hvps,refresh_ms,energy_H,energy_H_stderr,energy_G,energy_G_stderr," +
		"energy_F,energy_F_stderr,steps_per_sec,wall_sec,spectrum"
	if got := strings.Join(csvHeader(), ","); got != want {
		t.Errorf("CSV header\n%s\nwant\n%s", got, want)
	}
	cfg, _ := train.Preset("demo")
	cfg.N, cfg.K = 200, 3
	for _, extra := range []bool{false, true} {
		tr, err := train.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		tr.SetExtraPair(extra)
		dir := filepath.Join(t.TempDir(), "run")
		w, err := Create(dir, tr.Config())
		if err != nil {
			t.Fatal(err)
		}
		m, err := tr.Step()
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Record(&m); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(tr.Model(), tr.Theta(), 1); err != nil {
			t.Fatal(err)
		}
		raw, _ := os.ReadFile(filepath.Join(dir, "metrics.jsonl"))
		if strings.Contains(string(raw), "bulk_top") != extra {
			t.Errorf("extra pair %v: metrics.jsonl %s", extra, raw)
		}
		csv, _ := os.ReadFile(filepath.Join(dir, "metrics.csv"))
		if head, _, _ := strings.Cut(string(csv), "\n"); head != want {
			t.Errorf("extra pair %v: CSV header %s", extra, head)
		}
		got, err := ReadMetrics(dir)
		if err != nil || len(got) != 1 {
			t.Fatal(err)
		}
		if b := got[0].BulkTop; b.Valid() != extra || extra && b != m.BulkTop {
			t.Errorf("extra pair %v: bulk_top read back as %v, written %v", extra, b, m.BulkTop)
		}
	}
}
