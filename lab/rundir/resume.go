package rundir

// A run directory keeps a resume checkpoint, resume.bin, so that a run stopped in any way
// (Ctrl-C, SIGTERM, SIGKILL, a full disk, power loss) continues from its last durable state
// and gives the metrics it would have given uninterrupted, bit for bit. The file holds a
// header line (the step, the length of each metrics file at that step, and the caller's
// plan) and the trainer's checkpoint: θ, the optimizer, the eigenbasis, the RNG state and the
// minibatch position. It is written after the metrics up to its step are synced, through a
// synced temporary file renamed into place, so it never names lines that are not on disk.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"sharpflat/lab/train"
)

const (
	resumeFile  = "resume.bin"
	resumeMagic = "sharpflat resume 1\n"
)

// resumeHeader is the first line of resume.bin after the magic.
type resumeHeader struct {
	Step  int              `json:"step"`
	Sizes map[string]int64 `json:"sizes"` // length of each metrics file at Step
	Plan  json.RawMessage  `json:"plan,omitempty"`
}

// Checkpoint makes the steps recorded so far durable and writes cp (taken after the last of
// them) as the resume checkpoint, with plan (the caller's options, JSON) beside it.
func (w *Writer) Checkpoint(cp *train.Checkpoint, plan any) error {
	if cp.Step != w.steps {
		return fmt.Errorf("rundir: checkpoint at step %d, but %d steps are recorded", cp.Step, w.steps)
	}
	if err := w.sync(); err != nil {
		return err
	}
	return w.writeResume(cp, plan)
}

func (w *Writer) writeResume(cp *train.Checkpoint, plan any) error {
	if w.err != nil {
		return w.err
	}
	h := resumeHeader{Step: cp.Step, Sizes: map[string]int64{}}
	for _, lf := range w.files {
		h.Sizes[lf.name] = lf.size
	}
	if plan != nil {
		raw, err := json.Marshal(plan)
		if err != nil {
			return err
		}
		h.Plan = raw
	}
	var b bytes.Buffer
	b.WriteString(resumeMagic)
	raw, err := json.Marshal(h)
	if err != nil {
		return err
	}
	b.Write(raw)
	b.WriteByte('\n')
	if _, err := cp.WriteTo(&b); err != nil {
		return err
	}
	w.claim.wrote(resumeFile)
	return WriteFileAtomic(filepath.Join(w.Dir, resumeFile), b.Bytes())
}

// Resume claims the run directory dir to continue it: it reads the resume checkpoint, cuts
// each metrics file back to its length at the checkpoint (dropping the steps after it and
// any half-written line) and returns a Writer that appends after it, the checkpoint, and the
// plan stored with it (decoded into plan when not nil).
func Resume(dir string, plan any) (*Writer, *train.Checkpoint, error) {
	c, err := ClaimExisting(dir)
	if err != nil {
		return nil, nil, err
	}
	w, cp, err := resume(c, plan)
	if err != nil {
		c.Release()
		return nil, nil, err
	}
	return w, cp, nil
}

func resume(c *Claim, plan any) (*Writer, *train.Checkpoint, error) {
	h, cp, err := readResume(c.Dir)
	if err != nil {
		return nil, nil, err
	}
	if plan != nil && len(h.Plan) > 0 {
		if err := json.Unmarshal(h.Plan, plan); err != nil {
			return nil, nil, fmt.Errorf("%s: %v", filepath.Join(c.Dir, resumeFile), err)
		}
	}
	w := &Writer{Dir: c.Dir, claim: c, resumed: true, steps: cp.Step, kept: cp.Step}
	for i, name := range []string{metricsName, csvName, eventsName} {
		size, ok := h.Sizes[name]
		if !ok {
			w.closeFiles()
			return nil, nil, fmt.Errorf("%s: no length recorded for %s", filepath.Join(c.Dir, resumeFile), name)
		}
		path := filepath.Join(c.Dir, name)
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err == nil {
			var st os.FileInfo
			if st, err = f.Stat(); err == nil && st.Size() < size {
				err = fmt.Errorf("holds %d bytes, fewer than the %d of step %d: the file was cut after the checkpoint", st.Size(), size, cp.Step)
			}
			if err == nil {
				err = f.Truncate(size)
			}
			if err == nil {
				_, err = f.Seek(size, io.SeekStart)
			}
			if err != nil {
				f.Close()
			}
		}
		if err != nil {
			w.closeFiles()
			return nil, nil, fmt.Errorf("%s: %v", path, err)
		}
		w.files[i] = &lineFile{name: name, f: f, size: size}
	}
	return w, cp, nil
}

// readResume reads dir/resume.bin.
func readResume(dir string) (resumeHeader, *train.Checkpoint, error) {
	var h resumeHeader
	path := filepath.Join(dir, resumeFile)
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		if _, e := os.Stat(filepath.Join(dir, metricsName)); e != nil {
			return h, nil, fmt.Errorf("%s is not a sharpflat run directory (no %s)", dir, metricsName)
		}
		return h, nil, fmt.Errorf("%s has no resume checkpoint (%s): it was written by an older sharpflat", dir, resumeFile)
	}
	if err != nil {
		return h, nil, err
	}
	defer f.Close()
	r := bufio.NewReader(f)
	head := make([]byte, len(resumeMagic))
	if _, err := io.ReadFull(r, head); err != nil || string(head) != resumeMagic {
		return h, nil, fmt.Errorf("%s: not a sharpflat resume checkpoint (or from another version)", path)
	}
	line, err := r.ReadBytes('\n')
	if err != nil {
		return h, nil, fmt.Errorf("%s: header: %v", path, err)
	}
	if err := json.Unmarshal(line, &h); err != nil {
		return h, nil, fmt.Errorf("%s: header: %v", path, err)
	}
	cp, err := train.ReadCheckpoint(r)
	if err != nil {
		return h, nil, fmt.Errorf("%s: %v", path, err)
	}
	if cp.Step != h.Step {
		return h, nil, fmt.Errorf("%s: header says step %d, the checkpoint %d", path, h.Step, cp.Step)
	}
	return h, cp, nil
}
