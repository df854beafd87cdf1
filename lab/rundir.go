package lab

// A run directory (DESIGN.md §3):
//
//	config.json          the Config of the run
//	metrics.jsonl        one Metrics object per step (field names: README "metrics.jsonl")
//	metrics.csv          the same, scalar fields only, plus the spectrum as "λ₁ λ₂ …"
//	events.jsonl         one Event per line
//	weights.safetensors  θ at the last completed step (PyTorch nn.Linear layout)

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"time"

	"sharpflat/nn"
)

// RunDir writes a run directory as a Recorder.
type RunDir struct {
	Dir                      string
	metrics, events, csvFile *os.File
	mw, ew, cw               *bufio.Writer
	lastFlush                time.Time
	err                      error
}

// CreateRunDir makes dir (and parents) and writes config.json. It refuses a directory that
// already holds a run, so that no run is overwritten by accident.
func CreateRunDir(dir string, cfg Config) (*RunDir, error) {
	if err := prepareRunDir(dir, cfg); err != nil {
		return nil, err
	}
	var err error
	r := &RunDir{Dir: dir, lastFlush: time.Now()}
	open := func(name string) (*os.File, *bufio.Writer, error) {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			return nil, nil, err
		}
		return f, bufio.NewWriterSize(f, 1<<16), nil
	}
	if r.metrics, r.mw, err = open("metrics.jsonl"); err != nil {
		return nil, err
	}
	if r.events, r.ew, err = open("events.jsonl"); err != nil {
		return nil, err
	}
	if r.csvFile, r.cw, err = open("metrics.csv"); err != nil {
		return nil, err
	}
	r.cw.WriteString(strings.Join(csvHeader(), ",") + "\n")
	return r, nil
}

// Record appends one step.
func (r *RunDir) Record(m *Metrics) error {
	if r.err != nil {
		return r.err
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return err
	}
	r.mw.Write(raw)
	r.mw.WriteByte('\n')
	r.cw.WriteString(csvRow(m))
	if time.Since(r.lastFlush) > time.Second {
		r.err = r.Flush()
	}
	return r.err
}

// Event appends one event.
func (r *RunDir) Event(e Event) error {
	raw, err := json.Marshal(e)
	if err != nil {
		return err
	}
	r.ew.Write(raw)
	_, err = r.ew.WriteString("\n")
	return err
}

// Flush writes the buffers to the files.
func (r *RunDir) Flush() error {
	r.lastFlush = time.Now()
	for _, w := range []*bufio.Writer{r.mw, r.ew, r.cw} {
		if err := w.Flush(); err != nil {
			return err
		}
	}
	return nil
}

// Close flushes, syncs and closes the files, and writes θ to weights.safetensors.
func (r *RunDir) Close(m *nn.MLP, theta []float64, step int) error {
	err := r.Flush()
	for _, f := range []*os.File{r.metrics, r.events, r.csvFile} {
		if e := f.Sync(); e != nil && err == nil {
			err = e
		}
		if e := f.Close(); e != nil && err == nil {
			err = e
		}
	}
	if m != nil {
		meta := map[string]string{"step": strconv.Itoa(step)}
		if e := nn.SaveMLP(filepath.Join(r.Dir, "weights.safetensors"), m, theta, meta); e != nil && err == nil {
			err = e
		}
	}
	return err
}

// prepareRunDir makes dir, refusing one that holds a run, and writes config.json.
func prepareRunDir(dir string, cfg Config) error {
	if _, err := os.Stat(filepath.Join(dir, "metrics.jsonl")); err == nil {
		return fmt.Errorf("%s already holds a run (metrics.jsonl exists): choose another directory", dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	raw, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(dir, "config.json"), append(raw, '\n'))
}

func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path))
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// csvFields are the scalar fields of Metrics, in declaration order, with their JSON names.
var csvFields = func() (f []reflect.StructField) {
	t := reflect.TypeOf(Metrics{})
	for i := 0; i < t.NumField(); i++ {
		if t.Field(i).Type.Kind() != reflect.Slice {
			f = append(f, t.Field(i))
		}
	}
	return f
}()

func csvHeader() []string {
	h := make([]string, 0, len(csvFields)+1)
	for _, f := range csvFields {
		h = append(h, strings.Split(f.Tag.Get("json"), ",")[0])
	}
	return append(h, "spectrum")
}

func csvRow(m *Metrics) string {
	v := reflect.ValueOf(m).Elem()
	var b strings.Builder
	for i, f := range csvFields {
		if i > 0 {
			b.WriteByte(',')
		}
		x := v.FieldByIndex(f.Index).Interface()
		switch x := x.(type) {
		case Num:
			if x.Valid() {
				b.WriteString(strconv.FormatFloat(float64(x), 'g', -1, 64))
			}
		case float64:
			b.WriteString(strconv.FormatFloat(x, 'g', -1, 64))
		default:
			fmt.Fprint(&b, x)
		}
	}
	b.WriteByte(',')
	for i, l := range m.Spectrum {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.FormatFloat(l, 'g', 10, 64))
	}
	b.WriteByte('\n')
	return b.String()
}
