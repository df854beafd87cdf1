package rundir

// A run directory keeps a resume checkpoint, resume.bin, so that a run stopped in any way
// (Ctrl-C, SIGTERM, SIGKILL, a full disk, power loss) continues from its last durable state
// and gives the metrics it would have given uninterrupted, bit for bit. It is written after
// the metrics up to its step are synced, through a synced temporary file renamed into place,
// so it never names lines that are not on disk. Its layout:
//
//	sharpflat resume 3\n          the magic; 1 was the format without the checks below, 2 the
//	                              one without the files' sha256
//	{"step":…,"sizes":…,"sha256":…,"plan":…,"config":…,"config_sha256":…}\n
//	checkpoint                    train.Checkpoint.WriteTo: θ, optimizer, basis, RNG, …
//	SHA-256 of all the above      32 bytes (seal.go)
//
// The header holds the step, the length of each metrics file at that step and the SHA-256
// of those bytes, the caller's plan, and the run's configuration (as in config.json) with
// its fingerprint. Resume trusts nothing before checking all three: the checksum (a flipped
// bit, a file cut short), that config.json parses and has the checkpoint's fingerprint (a
// resume.bin copied from a run of another configuration, a config.json edited since),
// naming the settings that differ, and that each file it will cut back begins with the
// bytes the checkpoint hashed (a resume.bin copied from another run of the same
// configuration: its lines, with their wall-clock fields, are not this run's, and cutting
// at its lengths would tear a line). The writer keeps each file's hash running as it
// writes, so a checkpoint costs no reading; resume reads each prefix once, and the hash it
// computes is the one the resumed writer goes on with. A refused resume, and one that
// stops before its first write, leaves every file as it was.

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"sharpflat/lab/train"
)

const (
	resumeFile  = "resume.bin"
	resumeMagic = "sharpflat resume 3\n"
	// resumeMagic1 and resumeMagic2 start the checkpoints of older versions, which cannot be
	// checked (1: nothing; 2: not against the metrics files).
	resumeMagic1 = "sharpflat resume 1\n"
	resumeMagic2 = "sharpflat resume 2\n"
)

// resumeHeader is the first line of resume.bin after the magic.
type resumeHeader struct {
	Step        int               `json:"step"`
	Sizes       map[string]int64  `json:"sizes"`  // length of each metrics file at Step
	Sums        map[string]string `json:"sha256"` // hex SHA-256 of each file's first Sizes bytes
	Plan        json.RawMessage   `json:"plan,omitempty"`
	Config      train.Config      `json:"config"`        // the run's configuration, as config.json holds it
	Fingerprint string            `json:"config_sha256"` // Config.Fingerprint()
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
	h := resumeHeader{Step: cp.Step, Sizes: map[string]int64{}, Sums: map[string]string{}, Config: w.cfg, Fingerprint: w.cfg.Fingerprint()}
	for _, lf := range w.files {
		h.Sizes[lf.name] = lf.size
		h.Sums[lf.name] = hex.EncodeToString(lf.sum.Sum(nil)) // Sum leaves the running state as it is
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
	return WriteFileAtomic(filepath.Join(w.Dir, resumeFile), Seal(b.Bytes()))
}

// Resume claims the run directory dir to continue it: it reads the resume checkpoint and
// checks it (its checksum, config.json against its fingerprint, and the prefix of each
// metrics file against its SHA-256), and returns a Writer
// that appends after the checkpoint's step, the checkpoint, and the plan stored with it
// (decoded into plan when not nil). Each metrics file is cut back to its length at the
// checkpoint (dropping the steps after it and any half-written line) only when the Writer
// first writes: a caller that refuses the checkpoint after all (Abandon) changes nothing.
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
	if err := checkConfig(c.Dir, &h); err != nil {
		return nil, nil, err
	}
	if plan != nil && len(h.Plan) > 0 {
		if err := json.Unmarshal(h.Plan, plan); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", filepath.Join(c.Dir, resumeFile), err)
		}
	}
	w := &Writer{Dir: c.Dir, claim: c, cfg: h.Config, resumed: true, cut: true, steps: cp.Step, kept: cp.Step}
	for i, name := range []string{metricsName, csvName, eventsName} {
		lf, err := openPrefix(c.Dir, name, &h)
		if err != nil {
			w.closeFiles()
			return nil, nil, err
		}
		w.files[i] = lf
	}
	return w, cp, nil
}

// openPrefix opens the metrics file name of dir to continue it after the checkpoint h: it
// checks that the file begins with the h.Sizes[name] bytes whose SHA-256 h records, and
// returns it with that hash running. Nothing is written.
func openPrefix(dir, name string, h *resumeHeader) (*lineFile, error) {
	size, ok := h.Sizes[name]
	want, ok2 := h.Sums[name]
	if !ok || !ok2 {
		return nil, fmt.Errorf("%s: no length or checksum recorded for %s", filepath.Join(dir, resumeFile), name)
	}
	path := filepath.Join(dir, name)
	f, err := os.OpenFile(path, os.O_RDWR, 0) // read to check, written only after cutBack
	if err != nil {
		return nil, err
	}
	sum := sha256.New()
	st, err := f.Stat()
	switch {
	case err != nil:
	case st.Size() < size:
		err = fmt.Errorf("%s holds %d bytes, fewer than the %d of step %d: the file was cut after the checkpoint, or the checkpoint belongs to another run", path, st.Size(), size, h.Step)
	default:
		if _, err = io.Copy(sum, io.NewSectionReader(f, 0, size)); err != nil {
			err = fmt.Errorf("%s: %w", path, err)
		} else if hex.EncodeToString(sum.Sum(nil)) != want {
			err = fmt.Errorf("%s does not match the checkpoint: the checkpoint belongs to another run (or the file was changed before step %d); nothing was changed", path, h.Step)
		}
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return &lineFile{name: name, f: f, size: size, sum: sum}, nil
}

// checkConfig refuses a config.json that does not parse, or whose settings are not those
// the checkpoint was written for, naming the settings that differ.
func checkConfig(dir string, h *resumeHeader) error {
	cfg, err := ReadConfig(dir)
	if err != nil {
		return fmt.Errorf("cannot check the resume checkpoint against the run's configuration: %w", err)
	}
	if cfg.Fingerprint() == h.Fingerprint {
		return nil
	}
	var now, then []string
	for _, f := range train.ConfigDiff(&cfg, &h.Config) {
		now = append(now, f.Name+" "+f.Get(&cfg))
		then = append(then, f.Name+" "+f.Get(&h.Config))
	}
	return fmt.Errorf("%s does not match the configuration %s was written for (a checkpoint copied from another run, or config.json edited since): config.json has %s; the checkpoint has %s",
		filepath.Join(dir, "config.json"), filepath.Join(dir, resumeFile), strings.Join(now, ", "), strings.Join(then, ", "))
}

// readResume reads dir/resume.bin and checks its checksum.
func readResume(dir string) (resumeHeader, *train.Checkpoint, error) {
	var h resumeHeader
	path := filepath.Join(dir, resumeFile)
	// It is read whole (to check its checksum): a file larger than the memory limit is
	// refused before it is read.
	if st, err := os.Stat(path); err == nil && st.Size() > train.MemoryLimit() {
		return h, nil, fmt.Errorf("%s is %s, more than the memory limit %s: not a checkpoint this machine can resume",
			path, train.Bytes(float64(st.Size())), train.Bytes(float64(train.MemoryLimit())))
	}
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		if _, e := os.Stat(filepath.Join(dir, metricsName)); e != nil {
			return h, nil, fmt.Errorf("%s is not a sharpflat run directory (no %s)", dir, metricsName)
		}
		return h, nil, fmt.Errorf("%s has no resume checkpoint (%s): a run that diverged keeps none past the divergence (see its events.jsonl), and an older sharpflat wrote none", dir, resumeFile)
	}
	if err != nil {
		return h, nil, err
	}
	switch {
	case bytes.HasPrefix(raw, []byte(resumeMagic1)):
		return h, nil, fmt.Errorf("%s was written by an older sharpflat, without a checksum or the fingerprint of its configuration, so it cannot be checked: start the run again in a new directory (this one is left as it is)", path)
	case bytes.HasPrefix(raw, []byte(resumeMagic2)):
		return h, nil, fmt.Errorf("%s was written by an older sharpflat, without the checksums of the metrics files it continues, so it cannot be checked against them: start the run again in a new directory (this one is left as it is)", path)
	case !bytes.HasPrefix(raw, []byte(resumeMagic)):
		return h, nil, fmt.Errorf("%s: not a sharpflat resume checkpoint (or from another version)", path)
	}
	data, err := Unseal(raw)
	if err != nil {
		return h, nil, fmt.Errorf("%s is %w (a bit changed on disk, or a copy cut short): it cannot be trusted; nothing was changed", path, err)
	}
	r := bufio.NewReader(bytes.NewReader(data[len(resumeMagic):]))
	line, err := r.ReadBytes('\n')
	if err != nil {
		return h, nil, fmt.Errorf("%s: header: %w", path, err)
	}
	if err := json.Unmarshal(line, &h); err != nil {
		return h, nil, fmt.Errorf("%s: header: %w", path, err)
	}
	if h.Fingerprint != h.Config.Fingerprint() {
		return h, nil, fmt.Errorf("%s: the fingerprint of its configuration is not the one this sharpflat computes (written by another version?)", path)
	}
	cp, err := train.ReadCheckpoint(r)
	if err != nil {
		return h, nil, fmt.Errorf("%s: %w", path, err)
	}
	if _, err := r.ReadByte(); err != io.EOF {
		return h, nil, fmt.Errorf("%s: bytes after the checkpoint", path)
	}
	if cp.Step != h.Step {
		return h, nil, fmt.Errorf("%s: header says step %d, the checkpoint %d", path, h.Step, cp.Step)
	}
	return h, cp, nil
}
