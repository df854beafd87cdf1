package tui

// Compared runs (`sharpflat lab --compare DIR...`): saved run directories drawn beside the
// live run on the loss, sharpness and alignment charts, each with a glyph of its own and a
// legend entry, so that the arms of `sharpflat experiment switch` (SGD, Dom-SGD and
// Bulk-SGD from the same checkpoint) can be read side by side.
//
// Package tui may not import lab/rundir, so this file reads metrics.jsonl itself, as
// rundir.ReadMetrics does (a last line cut short is left out with a warning), but streamed
// and into the few fields it draws: a run of 100k steps costs its points, not its file.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"sharpflat/internal/safetext"
	"sharpflat/lab"
	"sharpflat/lab/train"
)

const (
	// maxCompared is the number of saved runs the charts show at once (one glyph each).
	maxCompared = 6
	// comparePoints is the most points a compared series keeps for drawing.
	comparePoints = 2000
	// chiWindow is the least number of measured steps χ(g) is averaged over: χ of a
	// minibatch gradient scatters too much to tell runs apart at cell resolution (the
	// switch experiment's figure averages 15 steps too).
	chiWindow = 15
	// metricsFile is a run directory's per-step metrics (see lab/rundir).
	metricsFile = "metrics.jsonl"
)

// compareGlyphs are the compared runs' markers, in order; the live charts use none of them
// (they draw •, ×, ·, +, ─, ╌, ┊ and braille).
var compareGlyphs = [maxCompared]rune{'◇', '△', '□', '○', '☆', '◁'}

// comparedRun is a saved run shown beside the live one.
type comparedRun struct {
	Dir string // the run directory
	// Name is the directory's base name ("dom", "sgd", "demo-20260101-120000"), with its
	// parent's when two runs share a base name ("ce_seed1/dom").
	Name string
	// Regime is the update of the run's last step (a switch arm changes it at the switch):
	// "SGD", "Dom-SGD", "Bulk-SGD", "α = 0.25", "(2.00, 0.50)"; " (adam)" follows for Adam.
	Regime string
	// Label is what the legend says: the regime, after the name unless the name says no
	// more than it ("dom" is "Dom-SGD", "ce_seed1/dom" is "ce_seed1 Dom-SGD", a lab run is
	// "demo-20260101-120000 SGD").
	Label string
	// Short is the legend's short form: the regime in at most 6 runes ("Dom", "SGD", "Bulk",
	// "α 0.25"; lab.UpdateLabel).
	Short string
	Glyph rune // distinct per run (compareGlyphs)

	// The series, by step, each at most comparePoints points (evenly by step, the last
	// kept). A rollback recorded in the file (a step not after the one before it) drops
	// the steps it went back over, as the live lab's history does.
	Loss      []lab.Point // minibatch loss, every step
	TrainLoss []lab.Point // full-train loss, every eval_every steps
	Sharpness []lab.Point // λ₁ of the basis in use
	Chi       []lab.Point // χ(g) of the minibatch gradient, trailing mean (chiWindow)

	First, Last int // the first and last step read

	// Warning says what was left out ("…/metrics.jsonl ends in a cut line (line 813, the
	// run was stopped while writing it): showing steps 1–812"); empty when all was read.
	Warning string
}

// comparePanel is a chart that shows compared runs.
type comparePanel int

const (
	compareLoss      comparePanel = iota // the loss chart: full-train loss
	compareSharpness                     // the sharpness chart: λ₁
	compareChi                           // the alignment chart: χ(g)
)

// inkCompared is the ink of the compared runs, on every panel and in the legends: the
// titles' plain bold, apart from the live run's colours (each run is told by its glyph).
const inkCompared = inkTitle

// CheckCompare loads dirs as the lab's --compare does (loadComparison), for a command line
// to refuse bad directories before the lab starts; warnings are the runs read only in part,
// one line each.
func CheckCompare(dirs []string) (warnings []string, err error) {
	runs, err := loadComparison(dirs)
	for _, r := range runs {
		if r.Warning != "" {
			warnings = append(warnings, r.Warning)
		}
	}
	return warnings, err
}

// loadComparison reads the run directories dirs for drawing beside the live run, each
// once, and gives them their glyphs and labels. A directory without metrics.jsonl is taken
// for a directory of runs: an experiment's output directory (its plan's arms, in plan
// order, finished ones only), one of its groups (DIR/runs/GROUP, arms in name order), or a
// directory of saved runs; warm-ups are left out (the arms continue from them; name one to
// show it). At most maxCompared runs fit. Errors name the directory, or the file and line.
func loadComparison(dirs []string) ([]comparedRun, error) {
	var paths []string
	seen := map[string]bool{}
	for _, d := range dirs {
		ps, err := expandRunDir(d)
		if err != nil {
			return nil, err
		}
		for _, p := range ps {
			key := filepath.Clean(p)
			if abs, err := filepath.Abs(p); err == nil {
				key = abs
			}
			if !seen[key] {
				seen[key] = true
				paths = append(paths, filepath.Clean(p))
			}
		}
	}
	if len(paths) > maxCompared {
		return nil, fmt.Errorf("%d runs to compare in %s: at most %d fit on the charts; name fewer, e.g. one group of an experiment (DIR/runs/GROUP) or its arms",
			len(paths), strings.Join(dirs, ", "), maxCompared)
	}
	runs := make([]comparedRun, len(paths))
	for i, p := range paths {
		r, err := readCompared(p)
		if err != nil {
			return nil, err
		}
		r.Glyph = compareGlyphs[i]
		runs[i] = r
	}
	nameRuns(runs)
	return runs, nil
}

// isRunDir reports whether dir holds a metrics.jsonl file.
func isRunDir(dir string) bool {
	fi, err := os.Stat(filepath.Join(dir, metricsFile))
	return err == nil && fi.Mode().IsRegular()
}

// isDirPath reports whether path is a directory (following symbolic links).
func isDirPath(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}

// expandRunDir returns dir if it is a run directory, else the run directories it holds (see
// loadComparison).
func expandRunDir(dir string) ([]string, error) {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("%s: no such directory", dir)
	case err != nil:
		return nil, err
	case !fi.IsDir():
		return nil, fmt.Errorf("%s: not a directory (a run directory holds %s)", dir, metricsFile)
	}
	if isRunDir(dir) {
		return []string{dir}, nil
	}
	if runs, name, ok := planRuns(dir); ok {
		if len(runs) == 0 {
			return nil, fmt.Errorf("%s: the %s experiment has no finished run yet (under %s)", dir, name, filepath.Join(dir, "runs"))
		}
		return runs, nil
	}
	runs := findRunDirs(dir, 3)
	if len(runs) == 0 {
		return nil, fmt.Errorf("%s: not a run directory (no %s), and no run directories under it", dir, metricsFile)
	}
	return runs, nil
}

// planRuns returns the finished arms of the experiment whose output directory is dir
// (DIR/runs/GROUP/ARM, in the order of DIR/plan.json) and the experiment's name; ok is false
// when dir holds no readable plan.
func planRuns(dir string) (runs []string, name string, ok bool) {
	raw, err := os.ReadFile(filepath.Join(dir, "plan.json"))
	if err != nil {
		return nil, "", false
	}
	var plan struct {
		Experiment string `json:"experiment"`
		Groups     []struct {
			Name string `json:"name"`
			Arms []struct {
				Name string `json:"name"`
			} `json:"arms"`
		} `json:"groups"`
	}
	if json.Unmarshal(raw, &plan) != nil {
		return nil, "", false
	}
	for _, g := range plan.Groups {
		for _, a := range g.Arms {
			if p := filepath.Join(dir, "runs", g.Name, a.Name); isRunDir(p) {
				runs = append(runs, p)
			}
		}
	}
	return runs, plan.Experiment, true
}

// findRunDirs returns the run directories under dir, depth levels down at most, in name
// order, not looking inside a run directory; hidden directories (an experiment's partial
// runs) and warm-ups are left out.
func findRunDirs(dir string, depth int) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var runs []string
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		if strings.HasPrefix(e.Name(), ".") || e.Name() == "warmup" || !isDirPath(p) {
			continue
		}
		if isRunDir(p) {
			runs = append(runs, p)
		} else if depth > 1 {
			runs = append(runs, findRunDirs(p, depth-1)...)
		}
	}
	return runs
}

// findRuns returns the run directories directly under base (the lab's "runs"), newest
// first by the time their metrics.jsonl was last written: for a picker. A base that does
// not exist holds no runs.
func findRuns(base string) ([]string, error) {
	entries, err := os.ReadDir(base)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	type found struct {
		path string
		mod  time.Time
	}
	var runs []found
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		p := filepath.Join(base, e.Name())
		fi, err := os.Stat(filepath.Join(p, metricsFile))
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		runs = append(runs, found{p, fi.ModTime()})
	}
	slices.SortStableFunc(runs, func(a, b found) int {
		if c := b.mod.Compare(a.mod); c != 0 {
			return c
		}
		return strings.Compare(b.path, a.path) // names end in a timestamp
	})
	paths := make([]string, len(runs))
	for i, r := range runs {
		paths[i] = r.path
	}
	return paths, nil
}

// metricsLine is what a compared run needs of a line of metrics.jsonl (train.Metrics).
type metricsLine struct {
	Step      int             `json:"step"`
	Loss      train.Num       `json:"loss"`
	TrainLoss train.Num       `json:"train_loss"`
	Sharpness train.Num       `json:"sharpness"`
	ChiGrad   train.Num       `json:"chi_grad"`
	WDom      float64         `json:"w_dom"`
	WBulk     float64         `json:"w_bulk"`
	Optimizer train.Optimizer `json:"optimizer"`
}

// readMetricsLines calls f with each line of dir/metrics.jsonl, as rundir.ReadMetrics reads
// them: a last line cut short (a run stopped while writing it) is left out and its number
// returned as cut (0: none); a bad line elsewhere is an error naming the file and line.
func readMetricsLines(dir string, f func(*metricsLine)) (cut int, err error) {
	path := filepath.Join(dir, metricsFile)
	file, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer file.Close()
	r := bufio.NewReaderSize(file, 64<<10)
	for line := 1; ; line++ {
		text, err := r.ReadBytes('\n')
		if len(text) == 0 && err == io.EOF {
			return 0, nil
		}
		if err != nil && err != io.EOF {
			return 0, fmt.Errorf("%s: %v", path, err)
		}
		complete := err == nil
		nan := train.Num(math.NaN()) // a field left out was not measured
		m := metricsLine{Loss: nan, TrainLoss: nan, Sharpness: nan, ChiGrad: nan}
		jerr := json.Unmarshal(bytes.TrimSuffix(text, []byte{'\n'}), &m)
		if jerr != nil || !complete {
			if _, perr := r.Peek(1); perr == io.EOF { // the last line
				return line, nil
			}
			return 0, fmt.Errorf("%s: line %d: %v", path, line, jerr)
		}
		f(&m)
	}
}

// readCompared reads one run directory's series.
func readCompared(dir string) (comparedRun, error) {
	r := comparedRun{Dir: dir}
	if !isRunDir(dir) {
		return r, fmt.Errorf("%s: not a run directory (no %s)", dir, metricsFile)
	}
	var loss, trainLoss, sharp, chi []lab.Point
	var last metricsLine
	n := 0
	add := func(s []lab.Point, step int, v train.Num) []lab.Point {
		if !v.Valid() {
			return s
		}
		return append(s, lab.Point{Step: step, V: float64(v)})
	}
	cut, err := readMetricsLines(dir, func(m *metricsLine) {
		if n > 0 && m.Step <= last.Step {
			// A rollback: the run went back to before this step.
			loss, trainLoss = pointsBefore(loss, m.Step), pointsBefore(trainLoss, m.Step)
			sharp, chi = pointsBefore(sharp, m.Step), pointsBefore(chi, m.Step)
		}
		if n == 0 || m.Step < r.First {
			r.First = m.Step
		}
		loss = add(loss, m.Step, m.Loss)
		trainLoss = add(trainLoss, m.Step, m.TrainLoss)
		sharp = add(sharp, m.Step, m.Sharpness)
		chi = add(chi, m.Step, m.ChiGrad)
		last = *m
		n++
	})
	if err != nil {
		return r, err
	}
	path := filepath.Join(dir, metricsFile)
	if n == 0 {
		if cut > 0 {
			return r, fmt.Errorf("%s: no complete step (line 1 is cut short)", path)
		}
		return r, fmt.Errorf("%s: no steps yet", path)
	}
	r.Last = last.Step
	if cut > 0 {
		r.Warning = fmt.Sprintf("%s ends in a cut line (line %d, the run was stopped while writing it): showing steps %d–%d",
			path, cut, r.First, r.Last)
	}
	r.Regime = train.UpdateName(last.WDom, last.WBulk)
	r.Short = lab.UpdateLabel(last.WDom, last.WBulk)
	if last.Optimizer == train.Adam {
		r.Regime += " (adam)"
	}
	r.Loss = downsample(loss, comparePoints)
	r.TrainLoss = downsample(trainLoss, comparePoints)
	r.Sharpness = downsample(sharp, comparePoints)
	w := max(chiWindow, (len(chi)+comparePoints-1)/comparePoints)
	r.Chi = downsample(trailingMean(chi, w), comparePoints)
	return r, nil
}

// pointsBefore returns the points of pts before step (pts ordered by step).
func pointsBefore(pts []lab.Point, step int) []lab.Point {
	n := len(pts)
	for n > 0 && pts[n-1].Step >= step {
		n--
	}
	return pts[:n]
}

// nameRuns sets the runs' names and labels: the base name, with the parent's where two runs
// share one, the full path where that is not enough either.
func nameRuns(runs []comparedRun) {
	names := func(f func(dir string) string) bool {
		count := map[string]int{}
		for i := range runs {
			runs[i].Name = f(runs[i].Dir)
			count[runs[i].Name]++
		}
		for _, c := range count {
			if c > 1 {
				return false
			}
		}
		return true
	}
	base := func(d string) string { return filepath.Base(filepath.Clean(d)) }
	parent := func(d string) string {
		d = filepath.Clean(d)
		return filepath.Base(filepath.Dir(d)) + "/" + filepath.Base(d)
	}
	if !names(base) && !names(parent) {
		names(filepath.Clean)
	}
	for i := range runs {
		r := &runs[i]
		r.Name = safetext.Line(r.Name) // a directory's name is anybody's
		r.Label = r.Name + " " + r.Regime
		dir, b := filepath.Split(r.Name)
		if strings.EqualFold(b, r.Short) {
			// "dom" says Dom-SGD: the regime alone, after the group if any.
			r.Label = strings.TrimSpace(strings.TrimSuffix(dir, "/") + " " + r.Regime)
		}
	}
}

// downsample returns at most limit (≥ 2) of pts (ordered by step, each step once), evenly by
// step: the first point of each of limit−1 equal step ranges, and the last point.
func downsample(pts []lab.Point, limit int) []lab.Point {
	if len(pts) <= limit || limit < 2 {
		return pts
	}
	first, span := pts[0].Step, pts[len(pts)-1].Step-pts[0].Step
	out := make([]lab.Point, 0, limit)
	prev := -1
	for _, p := range pts[:len(pts)-1] {
		b := int(int64(p.Step-first) * int64(limit-1) / int64(span))
		if b != prev {
			out = append(out, p)
			prev = b
		}
	}
	return append(out, pts[len(pts)-1])
}

// trailingMean returns, at each point, the mean of it and the w−1 points before it.
func trailingMean(pts []lab.Point, w int) []lab.Point {
	out := make([]lab.Point, len(pts))
	sum := 0.0
	for i, p := range pts {
		sum += p.V
		if i >= w {
			sum -= pts[i-w].V
		}
		out[i] = lab.Point{Step: p.Step, V: sum / float64(min(i+1, w))}
	}
	return out
}

// compareSeries is what the runs add to a panel's plot: one marker series a run, its glyph
// at the newest point of each column. Put them before the live series so that the live
// run's markers are drawn over them. The loss panel shows the full-train loss (the
// minibatch loss for a run that never measured it).
func compareSeries(runs []comparedRun, panel comparePanel) []plotSeries {
	var out []plotSeries
	for _, r := range runs {
		out = append(out, plotSeries{pts: r.points(panel), ink: inkCompared, mode: marker, glyph: r.Glyph})
	}
	return out
}

// points is the run's series on the panel.
func (r *comparedRun) points(panel comparePanel) []lab.Point {
	switch panel {
	case compareSharpness:
		return r.Sharpness
	case compareChi:
		return r.Chi
	}
	if len(r.TrainLoss) == 0 {
		return r.Loss
	}
	return r.TrainLoss
}

// compareLegend is one legend key a run: its glyph and label, short form its glyph and the
// regime's short name ("◇ Dom"). legendRows puts them beside the live keys when they fit
// there, on lines of their own otherwise: a run drawn is always named.
func compareLegend(runs []comparedRun) []item {
	var out []item
	for _, r := range runs {
		g := string(r.Glyph)
		out = append(out, item{
			full:  []seg{{g, inkCompared}, {" " + r.Label, inkLabel}},
			short: []seg{{g, inkCompared}, {" " + r.Short, inkLabel}},
			rank:  1,
			kind:  kindKey,
		})
	}
	return out
}
