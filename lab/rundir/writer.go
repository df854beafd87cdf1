package rundir

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"sharpflat/lab/train"
	"sharpflat/nn"
)

// Writer records a run directory step by step.
type Writer struct {
	Dir                      string
	metrics, events, csvFile *os.File
	mw, ew, cw               *bufio.Writer
	lastFlush                time.Time
	err                      error
}

// Create makes dir (and parents) and writes config.json. It refuses a directory that already
// holds a run, so that no run is overwritten by accident.
func Create(dir string, cfg train.Config) (*Writer, error) {
	if err := Prepare(dir, cfg); err != nil {
		return nil, err
	}
	var err error
	r := &Writer{Dir: dir, lastFlush: time.Now()}
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
func (r *Writer) Record(m *train.Metrics) error {
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
func (r *Writer) Event(e train.Event) error {
	raw, err := json.Marshal(e)
	if err != nil {
		return err
	}
	r.ew.Write(raw)
	_, err = r.ew.WriteString("\n")
	return err
}

// Events appends events in order.
func (r *Writer) Events(evs []train.Event) error {
	for _, e := range evs {
		if err := r.Event(e); err != nil {
			return err
		}
	}
	return nil
}

// Flush writes the buffers to the files.
func (r *Writer) Flush() error {
	r.lastFlush = time.Now()
	for _, w := range []*bufio.Writer{r.mw, r.ew, r.cw} {
		if err := w.Flush(); err != nil {
			return err
		}
	}
	return nil
}

// Close flushes, syncs and closes the files, and writes θ to weights.safetensors (unless m is
// nil).
func (r *Writer) Close(m *nn.MLP, theta []float64, step int) error {
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
		if e := WriteWeights(r.Dir, m, theta, step); e != nil && err == nil {
			err = e
		}
	}
	return err
}

// WriteWeights writes θ to dir/weights.safetensors with the step in its metadata.
func WriteWeights(dir string, m *nn.MLP, theta []float64, step int) error {
	meta := map[string]string{"step": strconv.Itoa(step)}
	return nn.SaveMLP(filepath.Join(dir, "weights.safetensors"), m, theta, meta)
}

// Prepare makes dir, refusing one that holds a run, and writes config.json.
func Prepare(dir string, cfg train.Config) error {
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
	return WriteFileAtomic(filepath.Join(dir, "config.json"), append(raw, '\n'))
}

// WriteFileAtomic writes data to path through a synced temporary file renamed into place, so
// that a reader sees the old file or the new one, never a part.
func WriteFileAtomic(path string, data []byte) error {
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
// Fields not written to metrics.jsonl (`json:"-"`) or written only by some sessions
// (`omitzero`) are left out, so that every run's CSV has the same columns.
var csvFields = func() (f []reflect.StructField) {
	t := reflect.TypeOf(train.Metrics{})
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		tag := strings.Split(sf.Tag.Get("json"), ",")
		if sf.Type.Kind() == reflect.Slice || tag[0] == "-" || slices.Contains(tag[1:], "omitzero") {
			continue
		}
		f = append(f, sf)
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

func csvRow(m *train.Metrics) string {
	v := reflect.ValueOf(m).Elem()
	var b strings.Builder
	for i, f := range csvFields {
		if i > 0 {
			b.WriteByte(',')
		}
		x := v.FieldByIndex(f.Index).Interface()
		switch x := x.(type) {
		case train.Num:
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
