package rundir

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"sharpflat/internal/tempfile"
	"sharpflat/lab/train"
	"sharpflat/nn"
)

// Writer records a run directory step by step. A step's lines are kept in memory and
// written whole, all files together, about once a second and at every checkpoint: a crash or
// a full disk leaves every file ending on a complete line, the same steps in metrics.jsonl
// and metrics.csv.
type Writer struct {
	Dir       string
	claim     *Claim
	cfg       train.Config // the run's configuration (config.json), named by resume.bin
	files     [3]*lineFile // metrics.jsonl, metrics.csv, events.jsonl
	steps     int          // steps recorded (buffered or on disk)
	events    int          // events recorded (buffered or on disk)
	kept      int          // steps on disk in every file
	resumed   bool         // continues a run (Resume): nothing of it is Abandoned
	cut       bool         // resumed: each file is still to be cut back to its size at the checkpoint
	lastFlush time.Time
	err       error // sticky: the first failed write
}

// lineFile is one append-only file and the whole lines not yet written to it.
type lineFile struct {
	name string
	f    *os.File
	buf  []byte
	size int64     // bytes on disk, all complete lines
	sum  hash.Hash // SHA-256 of those size bytes, kept as they are written (resume.bin names it)
}

const (
	metricsName = "metrics.jsonl"
	csvName     = "metrics.csv"
	eventsName  = "events.jsonl"
)

// writeFile writes b to f; a test replaces it to fail like a full disk.
var writeFile = func(f *os.File, b []byte) (int, error) { return f.Write(b) }

// Create claims dir for a new run (ClaimNew: created, or empty) and writes config.json.
func Create(dir string, cfg train.Config) (*Writer, error) {
	c, err := ClaimNew(dir)
	if err != nil {
		return nil, err
	}
	if err := writeConfig(c, cfg); err != nil {
		c.Abandon()
		return nil, err
	}
	w := &Writer{Dir: dir, claim: c, cfg: cfg, lastFlush: time.Now()}
	for i, name := range []string{metricsName, csvName, eventsName} {
		f, err := os.OpenFile(filepath.Join(dir, name), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if err != nil {
			w.closeFiles()
			c.Abandon()
			return nil, err
		}
		c.wrote(name)
		w.files[i] = &lineFile{name: name, f: f, sum: sha256.New()}
	}
	w.files[1].buf = []byte(strings.Join(csvHeader(), ",") + "\n")
	return w, nil
}

// Record appends one step.
func (w *Writer) Record(m *train.Metrics) error {
	if w.err != nil {
		return w.err
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return err
	}
	mf := w.files[0]
	mf.buf = append(append(mf.buf, raw...), '\n')
	w.files[1].buf = append(w.files[1].buf, csvRow(m)...)
	w.steps++
	if time.Since(w.lastFlush) > time.Second {
		return w.Flush()
	}
	return nil
}

// Event appends one event.
func (w *Writer) Event(e train.Event) error {
	raw, err := json.Marshal(e)
	if err != nil {
		return err
	}
	ef := w.files[2]
	ef.buf = append(append(ef.buf, raw...), '\n')
	w.events++
	return w.err
}

// Events appends events in order.
func (w *Writer) Events(evs []train.Event) error {
	for _, e := range evs {
		if err := w.Event(e); err != nil {
			return err
		}
	}
	return nil
}

// Kept is the number of steps on disk in every file.
func (w *Writer) Kept() int { return w.kept }

// Steps is the number of steps recorded.
func (w *Writer) Steps() int { return w.steps }

// EventCount is the number of events recorded.
func (w *Writer) EventCount() int { return w.events }

// Flush writes the buffered lines, each file's in one write. When a write fails (a full
// disk) every file is cut back to the lines it held before, so that the directory stays a
// consistent run of Kept() steps, and the error, kept for every later call, says so.
func (w *Writer) Flush() error {
	if w.err != nil {
		return w.err
	}
	w.lastFlush = time.Now()
	if w.cut {
		if err := w.cutBack(); err != nil {
			w.err = err
			return err
		}
	}
	for i, lf := range w.files {
		if len(lf.buf) == 0 {
			continue
		}
		n, err := writeFile(lf.f, lf.buf)
		if err == nil && n < len(lf.buf) {
			err = io.ErrShortWrite
		}
		if err != nil {
			for _, g := range w.files[:i+1] {
				g.f.Truncate(g.size) // shrinking a file needs no space
				g.f.Seek(g.size, io.SeekStart)
			}
			w.err = fmt.Errorf("writing %s: %w; %s keeps steps 1–%d, complete (free space, then continue with --resume %s)",
				filepath.Join(w.Dir, lf.name), err, w.Dir, w.kept, w.Dir)
			return w.err
		}
	}
	for _, lf := range w.files {
		lf.size += int64(len(lf.buf))
		lf.sum.Write(lf.buf)
		lf.buf = lf.buf[:0]
	}
	w.kept = w.steps
	return nil
}

// cutBack cuts each file of a resumed run back to its length at the checkpoint (the steps
// after it, and a half-written line, go), before the first write: not before, so that a
// resume refused after Resume returned leaves the files as they were.
func (w *Writer) cutBack() error {
	for _, lf := range w.files {
		if err := lf.f.Truncate(lf.size); err != nil {
			return fmt.Errorf("%s: %w", filepath.Join(w.Dir, lf.name), err)
		}
		if _, err := lf.f.Seek(lf.size, io.SeekStart); err != nil {
			return fmt.Errorf("%s: %w", filepath.Join(w.Dir, lf.name), err)
		}
	}
	w.cut = false
	return nil
}

// sync flushes and makes the files durable.
func (w *Writer) sync() error {
	if err := w.Flush(); err != nil {
		return err
	}
	for _, lf := range w.files {
		if err := lf.f.Sync(); err != nil {
			return err
		}
	}
	return nil
}

func (w *Writer) closeFiles() {
	for _, lf := range w.files {
		if lf != nil {
			lf.f.Close()
		}
	}
}

// Close flushes, syncs and closes the files, writes θ to weights.safetensors (unless m is
// nil) and the resume checkpoint (unless cp is nil), and releases the directory. After a
// failed write nothing past the kept steps is written: the last checkpoint stays the one to
// resume from.
func (w *Writer) Close(m *nn.MLP, theta []float64, step int) error {
	return w.CloseWith(m, theta, step, nil, nil)
}

// CloseWith is Close that also writes a final resume checkpoint cp with the caller's plan.
func (w *Writer) CloseWith(m *nn.MLP, theta []float64, step int, cp *train.Checkpoint, plan any) error {
	defer w.claim.Release()
	err := w.sync()
	w.closeFiles()
	if err != nil {
		return err
	}
	if m != nil {
		if err := WriteWeights(w.Dir, m, theta, step); err != nil {
			return err
		}
		w.claim.wrote("weights.safetensors")
	}
	if cp != nil {
		return w.writeResume(cp, plan)
	}
	return nil
}

// Abandon closes the files and removes everything Create wrote (and the directory if it
// made it): for a run that stopped before recording a step. A resumed run is only closed.
func (w *Writer) Abandon() {
	w.closeFiles()
	if w.resumed {
		w.claim.Release()
		return
	}
	w.claim.Abandon()
}

// WriteWeights writes θ to dir/weights.safetensors with the step in its metadata.
func WriteWeights(dir string, m *nn.MLP, theta []float64, step int) error {
	meta := map[string]string{"step": strconv.Itoa(step)}
	return nn.SaveMLP(filepath.Join(dir, "weights.safetensors"), m, theta, meta)
}

// writeConfig writes the claimed directory's config.json.
func writeConfig(c *Claim, cfg train.Config) error {
	raw, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return err
	}
	c.wrote("config.json")
	return WriteFileAtomic(filepath.Join(c.Dir, "config.json"), append(raw, '\n'))
}

// WriteConfig writes config.json into a claimed directory.
func (c *Claim) WriteConfig(cfg train.Config) error { return writeConfig(c, cfg) }

// CopyFrom copies the named files of dir src into the claimed directory.
func (c *Claim) CopyFrom(src string, names ...string) error {
	for _, name := range names {
		c.wrote(name)
		if err := copyFile(filepath.Join(c.Dir, name), filepath.Join(src, name)); err != nil {
			return err
		}
	}
	return nil
}

func copyFile(dst, src string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// WriteFileAtomic writes data to path through a synced temporary file renamed into place, so
// that a reader sees the old file or the new one, never a part. The file gets the mode any
// other file gets, 0666 less the umask (os.CreateTemp would make it 0600, unreadable to
// colleagues on shared storage).
func WriteFileAtomic(path string, data []byte) error {
	tmp, err := tempfile.Create(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-")
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
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	return SyncDir(filepath.Dir(path))
}

// SyncDir makes the renames and creations in dir durable (fsync of the directory).
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
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
