package train

// Before a trainer allocates anything it estimates the memory its configuration needs and
// refuses one over the limit, with the estimate: a 100000-100000 network is an error that
// says "needs about 640 GB", not a runtime stack dump.

import (
	"bufio"
	"cmp"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"

	"sharpflat/nn"
)

// memoryLimit is the limit New and Restore check, in bytes (0: DefaultMemoryLimit).
var memoryLimit atomic.Int64

// SetMemoryLimit sets the memory a configuration may need (bytes; 0 restores the default).
// The commands set it from a flag; the lab and the classroom leave the default.
func SetMemoryLimit(bytes int64) { memoryLimit.Store(bytes) }

// MemoryLimit is the limit in force: the one set, capped at the physical memory (where it
// can be read). A limit above the machine's memory would let a configuration pass the
// check and then kill the process with a runtime out-of-memory fatal error.
func MemoryLimit() int64 {
	l := memoryLimit.Load()
	if l <= 0 {
		return DefaultMemoryLimit()
	}
	if phys := physicalMemory(); phys > 0 && l > phys {
		return phys
	}
	return l
}

// LimitError is the refusal of a computation estimated to need more than the memory limit.
// It reaches users of the lab and the classroom too, so it names no command-line flag: a
// command that sets the limit from one recognises it (errors.As) and adds the flag's name.
type LimitError struct {
	What  string    // the computation: "this configuration", "data gaussian", …
	Need  Footprint // its estimate
	Limit int64     // the limit in force
	Set   int64     // the limit that was set, when it was above the physical memory (Limit); else 0
}

func (e *LimitError) Error() string {
	limit := Bytes(float64(e.Limit))
	if e.Set > 0 {
		limit = fmt.Sprintf("the physical memory %s (the limit set, %s, is above it)", limit, Bytes(float64(e.Set)))
	}
	return fmt.Sprintf("%s needs %s; the memory limit is %s: use fewer or narrower layers, less data or a smaller k", e.What, e.Need, limit)
}

// DefaultMemoryLimit is half the physical memory (Linux /proc/meminfo), or 4 GiB where it
// cannot be read.
func DefaultMemoryLimit() int64 {
	if total := physicalMemory(); total > 0 {
		return total / 2
	}
	return 4 << 30
}

// physicalMemory is MemTotal of /proc/meminfo in bytes, 0 where it cannot be read (other
// systems: the limit is then not capped).
func physicalMemory() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	return 0
}

// Footprint is an estimate of the memory a computation needs, by part, in bytes. The parts
// are upper bounds of what the code allocates (see nn/passes.go and linalg/krylov_schur.go):
// the estimate is meant to be above the measured peak, never far below it (BENCHMARKS.md
// compares the two).
type Footprint struct {
	Data        float64 // the examples
	Parameters  float64 // θ, gradient, update direction, optimizer state, checkpoints
	Eigenspace  float64 // the basis and the eigensolver's Krylov vectors
	Activations float64 // forward, backward and R-pass buffers of the bound sets
}

// Total is the sum of the parts.
func (f Footprint) Total() float64 { return f.Data + f.Parameters + f.Eigenspace + f.Activations }

func (f Footprint) String() string {
	var parts []string
	for _, p := range []struct {
		name string
		b    float64
	}{{"activations", f.Activations}, {"eigenspace", f.Eigenspace}, {"parameters", f.Parameters}, {"data", f.Data}} {
		if p.b > 0 {
			parts = append(parts, p.name+" "+Bytes(p.b))
		}
	}
	return fmt.Sprintf("about %s (%s)", Bytes(f.Total()), strings.Join(parts, ", "))
}

// Check returns a *LimitError naming the estimate when it is above limit.
func (f Footprint) Check(what string, limit int64) error {
	if f.Total() <= float64(limit) {
		return nil
	}
	e := &LimitError{What: what, Need: f, Limit: limit}
	if set := memoryLimit.Load(); set > limit && limit == physicalMemory() {
		e.Set = set
	}
	return e
}

// Bytes words a size: "1.5 GB", "820 MB", "12 kB" (powers of 1000).
func Bytes(b float64) string {
	units := []string{"B", "kB", "MB", "GB", "TB", "PB", "EB"}
	i := 0
	for b >= 1000 && i < len(units)-1 {
		b /= 1000
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%.0f B", b)
	}
	return fmt.Sprintf("%.3g %s", b, units[i])
}

// params is the parameter count of a network of these widths, in float64 (no overflow).
func params(widths []int) float64 {
	p := 0.0
	for i := 1; i < len(widths); i++ {
		p += float64(widths[i]) * float64(widths[i-1]+1)
	}
	return p
}

// boundBytes is what nn allocates to evaluate a network on n examples with curvature
// products: per chunk of 256 rows nine buffers of rows × width per layer, and the gradient,
// Hv and Gv vectors (P each); θ and the gradient of the Bound.
func boundBytes(widths []int, n int) float64 {
	if n <= 0 {
		return 0
	}
	width := 0.0
	for _, w := range widths[1:] {
		width += float64(w)
	}
	chunks := float64((n + 255) / 256)
	return 8 * (9*float64(n)*width + (3*chunks+2)*params(widths))
}

// FootprintOf estimates what a computation of the top-k eigenspace on a network of these
// widths needs, with the given bound sets (the number of examples of each) and the data
// (floats held).
func FootprintOf(widths []int, k int, sets []int, dataFloats float64) Footprint {
	p := params(widths)
	solver := float64(2*(max(2*(k+1)+20, k+5)) + 2) // Krylov basis and work, at most
	f := Footprint{
		Data:       8 * dataFloats,
		Parameters: 8 * p * float64(6+2*maxCheckpoints),
		Eigenspace: 8 * p * (solver + float64(k+1)*(1+maxCheckpoints)),
	}
	for _, n := range sets {
		f.Activations += boundBytes(widths, n)
	}
	return f
}

// Footprint estimates what the trainer needs, as New checked it: a race of n arms needs n
// times it (Times).
func (t *Trainer) Footprint() Footprint { return footprint(&t.cfg, &t.train, &t.test, &t.hess) }

// Times is n copies of f (n trainers of one configuration, e.g. the arms of a race).
func (f Footprint) Times(n int) Footprint {
	k := float64(n)
	return Footprint{Activations: k * f.Activations, Eigenspace: k * f.Eigenspace, Parameters: k * f.Parameters, Data: k * f.Data}
}

// footprint estimates a trainer's needs once its data is known.
func footprint(c *Config, train, test, hess *nn.Dataset) Footprint {
	batch := c.Batch
	if batch == 0 || batch > train.N {
		batch = train.N
	}
	data := float64(train.N)*float64(train.D+train.OutputDim()) + float64(test.N)*float64(test.D+test.OutputDim())
	return FootprintOf(widthsOf(c, train), c.K, []int{batch, hess.N, train.N, test.N}, data)
}

// dataFootprint estimates what generating a synthetic data set holds before it is split:
// the generated set and the two halves, and the halves' feature vectors when the config
// chooses features. Files (bounded by their size), the fixed MNIST sets and unknown names
// (loadData says what is wrong) count nothing.
func dataFootprint(c *Config) Footprint {
	if isFileData(c.Data) || isMNIST(c.Data) {
		return Footprint{}
	}
	probe, err := nn.Synthetic(c.Data, 8, c.Seed)
	if err != nil {
		return Footprint{}
	}
	floats := 2 * float64(c.N) * float64(probe.D+probe.OutputDim())
	if !c.Features.IsZero() {
		floats += float64(c.N) * float64(c.Features.Width())
	}
	return Footprint{Data: 8 * floats}
}

// The sizes of the built-in MNIST sets (nn.MNISTSubset, nn.MNISTEmbedded), for an estimate
// that does not decode them.
const (
	mnistSubsetTrain, mnistSubsetTest     = 2000, 500
	mnistEmbeddedTrain, mnistEmbeddedTest = 5000, 1000
	mnistClasses                          = 10
)

// ConfigFootprint estimates what New would check for c, before anything is built: the
// memory of the trainer (Trainer.Footprint of the trainer New would return), or the memory
// of generating its data when that is larger. The data are not generated: a synthetic set is
// probed for its widths and its sizes follow from n and the test fraction, the MNIST sets'
// sizes are known; a CSV file is read. The errors are those New would give for c: an
// invalid setting, unknown data, features on data that is not 2-D, noise on data without
// it, a batch, Hessian set or k the data and the network cannot have, cross-entropy on a
// regression set.
func ConfigFootprint(c *Config) (Footprint, error) {
	if err := c.Validate(); err != nil {
		return Footprint{}, err
	}
	cfg := *c
	cfg.normalizeRule()
	if gen := dataFootprint(&cfg); gen.Total() > float64(MemoryLimit()) {
		return gen, nil // as New: generating it is refused before anything else (n = 2⁶³ overflows the sizes below)
	}
	tr, te, err := configShape(&cfg)
	if err != nil {
		return Footprint{}, err
	}
	if err := checkSizes(&cfg, &tr, params(widthsOf(&cfg, &tr))); err != nil {
		return Footprint{}, err
	}
	if err := checkLoss(&cfg, tr.Classes); err != nil {
		return Footprint{}, err
	}
	hess := tr
	hess.N = min(tr.N, cmp.Or(cfg.HessianSet, DefaultHessianSet))
	fp := footprint(&cfg, &tr, &te, &hess)
	if gen := dataFootprint(&cfg); gen.Total() > fp.Total() {
		return gen, nil
	}
	return fp, nil
}

// configShape is the training and test sets of cfg as New would build them, their sizes and
// widths only (no examples): a synthetic set is probed for its widths, the MNIST sets' sizes
// are known, a CSV file is read. Its errors are New's for the data.
func configShape(cfg *Config) (tr, te nn.Dataset, err error) {
	switch {
	case isFileData(cfg.Data):
		if tr, te, err = loadData(cfg); err != nil {
			return tr, te, err
		}
	case isMNIST(cfg.Data):
		d := 28 * 28
		if cfg.Data == "mnist14" {
			d = 14 * 14
		}
		tr = nn.Dataset{N: mnistSubsetTrain, D: d, Classes: mnistClasses}
		te = nn.Dataset{N: mnistSubsetTest, D: d, Classes: mnistClasses}
		if cfg.Data == "mnist5k" {
			tr.N, te.N = mnistEmbeddedTrain, mnistEmbeddedTest
		}
	default:
		probe, err := nn.SyntheticNoise(cfg.Data, 1, noiseSigma(cfg), cfg.Seed)
		if err != nil {
			return tr, te, syntheticError(err)
		}
		nTrain := int((1-cfg.TestFrac)*float64(cfg.N) + 0.5) // as nn.Dataset.Split
		tr = nn.Dataset{N: nTrain, D: probe.D, Classes: probe.Classes, Out: probe.Out}
		te = tr
		te.N = cfg.N - nTrain
		if tr.N == 0 {
			return tr, te, fmt.Errorf("data %q: no training examples", cfg.Data)
		}
		if msg := checkFeatures(cfg, tr.D); msg != "" {
			return tr, te, fmt.Errorf("invalid configuration:\n  %s", msg)
		}
		if !cfg.Features.IsZero() {
			tr.D, te.D = cfg.Features.Width(), cfg.Features.Width()
		}
	}
	return tr, te, nil
}

// NumParams is P, the number of parameters of the network New would build for c (k must stay
// below it), without building it or its data.
func NumParams(c *Config) (int, error) {
	if err := c.Validate(); err != nil {
		return 0, err
	}
	tr, _, err := configShape(c)
	if err != nil {
		return 0, err
	}
	return int(params(widthsOf(c, &tr))), nil
}
