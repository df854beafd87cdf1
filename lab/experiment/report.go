package experiment

// What an experiment writes besides its runs: summary.csv, PNG figures and report.md; and
// the docs/EXPERIMENTS.md section with the figures.

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"sharpflat/lab/rundir"
	"sharpflat/lab/train"
	"sharpflat/nn"
)

// Report is what an experiment concluded: written to DIR/report.md and into the docs.
type Report struct {
	Experiment string
	Title      string
	Protocol   string   // how the runs were made
	Findings   []string // measured statements, each one sentence or two
	Tables     []string // markdown tables
	Figures    []Figure
	CSVHeader  []string
	CSVRows    [][]string
	Missing    []string // arms not finished when the report was made (it covers the rest)
}

// Figure is a PNG in the experiment directory.
type Figure struct {
	File    string // file name in DIR
	Caption string
}

func writeReport(dir string, rep *Report, command string, took time.Duration) error {
	if len(rep.CSVHeader) > 0 {
		// Whole or not at all, like report.md: two report jobs may run at once.
		var buf bytes.Buffer
		w := csv.NewWriter(&buf)
		w.Write(rep.CSVHeader)
		w.WriteAll(rep.CSVRows)
		if err := w.Error(); err != nil {
			return err
		}
		if err := rundir.WriteFileAtomic(filepath.Join(dir, "summary.csv"), buf.Bytes()); err != nil {
			return err
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n", rep.Title)
	if command != "" {
		fmt.Fprintf(&b, "Command: `%s` (written %s", command, time.Now().Format("2006-01-02 15:04"))
		if took > 0 {
			fmt.Fprintf(&b, "; this invocation took %s", fmtDuration(took))
		}
		b.WriteString(").\n\n")
	}
	if len(rep.Missing) > 0 {
		fmt.Fprintf(&b, "**Partial report: %d arms are not finished** (%s); the findings and tables cover the finished ones only.\n\n",
			len(rep.Missing), strings.Join(rep.Missing, ", "))
	}
	b.WriteString(rep.Protocol + "\n\n")
	if len(rep.Findings) > 0 {
		b.WriteString("## Findings\n\n")
		for _, f := range rep.Findings {
			b.WriteString("- " + f + "\n")
		}
		b.WriteString("\n")
	}
	b.WriteString("## Results\n\n")
	for _, t := range rep.Tables {
		b.WriteString(t + "\n\n")
	}
	for _, f := range rep.Figures {
		fmt.Fprintf(&b, "![%s](%s)\n\n*%s*\n\n", f.File, f.File, f.Caption)
	}
	b.WriteString("Per-run data: `runs/GROUP/ARM/` (config.json, metrics.jsonl, metrics.csv, events.jsonl, weights.safetensors, complete.json); one row per arm in `summary.csv`.\n")
	return rundir.WriteFileAtomic(filepath.Join(dir, "report.md"), []byte(b.String()))
}

// WriteDocs copies the report's figures to docsDir/figures/ and replaces the experiment's
// generated section of docsDir/EXPERIMENTS.md (between its BEGIN/END markers), keeping the
// hand-written text around it. A missing file or section is created. The section starts with
// the command that ran the experiment and, in brackets, how to regenerate the docs (regenerate,
// Markdown).
func WriteDocs(docsDir, expDir string, rep *Report, regenerate, command string) error {
	figDir := filepath.Join(docsDir, "figures")
	if err := os.MkdirAll(figDir, 0o755); err != nil {
		return err
	}
	var gen strings.Builder
	fmt.Fprintf(&gen, "Command: `%s` (%s)\n\n", command, regenerate)
	for _, f := range rep.Figures {
		raw, err := os.ReadFile(filepath.Join(expDir, f.File))
		if err != nil {
			return err
		}
		name := f.File
		if !strings.HasPrefix(name, rep.Experiment) {
			name = rep.Experiment + "_" + name
		}
		if err := rundir.WriteFileAtomic(filepath.Join(figDir, name), raw); err != nil {
			return err
		}
		fmt.Fprintf(&gen, "![%s](figures/%s)\n\n*%s*\n\n", name, name, f.Caption)
	}
	if len(rep.Findings) > 0 {
		gen.WriteString("Measured:\n\n")
		for _, f := range rep.Findings {
			gen.WriteString("- " + f + "\n")
		}
		gen.WriteString("\n")
	}
	for _, t := range rep.Tables {
		gen.WriteString(t + "\n\n")
	}
	path := filepath.Join(docsDir, "EXPERIMENTS.md")
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	doc := replaceSection(string(old), rep.Experiment, rep.Title, strings.TrimRight(gen.String(), "\n")+"\n")
	return rundir.WriteFileAtomic(path, []byte(doc))
}

// replaceSection puts body between the experiment's markers, appending a new section (with a
// heading and a place for commentary) when the markers are not there.
func replaceSection(doc, name, title, body string) string {
	begin := "<!-- BEGIN generated: " + name + " -->"
	end := "<!-- END generated: " + name + " -->"
	i, j := strings.Index(doc, begin), strings.Index(doc, end)
	if i >= 0 && j > i {
		return doc[:i+len(begin)] + "\n" + body + doc[j:]
	}
	if doc == "" {
		doc = "# Experiments\n"
	}
	return strings.TrimRight(doc, "\n") + "\n\n## " + title + "\n\n" + begin + "\n" + body + end + "\n\n" +
		"<!-- commentary: " + name + " -->\n"
}

// readMetrics reads a run directory's metrics.jsonl. A last line cut short (a run killed
// while writing it) is left out with a warning on stderr: the steps before it are good.
func readMetrics(dir string) ([]train.Metrics, error) {
	ms, err := rundir.ReadMetrics(dir)
	if cut := (*rundir.TruncatedError)(nil); errors.As(err, &cut) {
		fmt.Fprintf(os.Stderr, "sharpflat: warning: %v\n", err)
		return ms, nil
	}
	return ms, err
}

// series extracts (step, value) pairs of one metric; onlyValid drops the NaN (unmeasured).
func series(ms []train.Metrics, f func(m *train.Metrics) float64) (xs, ys []float64) {
	for i := range ms {
		v := f(&ms[i])
		if math.IsNaN(v) {
			continue
		}
		xs = append(xs, float64(ms[i].Step))
		ys = append(ys, v)
	}
	return xs, ys
}

// trainLossSeries is the full-train loss: metrics report it on eval steps at θ before the
// step (so at step s−1); the point at the end of the arm comes from its summary.
func trainLossSeries(ms []train.Metrics) (xs, ys []float64) {
	xs, ys = series(ms, func(m *train.Metrics) float64 { return float64(m.TrainLoss) })
	for i := range xs {
		xs[i]--
	}
	return xs, ys
}

// markdown table helpers.
func mdTable(header []string, rows [][]string) string {
	var b strings.Builder
	b.WriteString("| " + strings.Join(header, " | ") + " |\n|")
	for range header {
		b.WriteString(" --- |")
	}
	b.WriteString("\n")
	for _, r := range rows {
		b.WriteString("| " + strings.Join(r, " | ") + " |\n")
	}
	return strings.TrimRight(b.String(), "\n")
}

// f4 formats a number with 4 significant digits ("—" for NaN, "∞" for +Inf).
func f4(v float64) string { return fmtG(v, 4) }

func fmtG(v float64, prec int) string {
	switch {
	case math.IsNaN(v):
		return "—"
	case math.IsInf(v, 1):
		return "∞"
	case math.IsInf(v, -1):
		return "−∞"
	}
	return strconv.FormatFloat(v, 'g', prec, 64)
}

func csvNum(v float64) string {
	if math.IsNaN(v) {
		return ""
	}
	return strconv.FormatFloat(v, 'g', 8, 64)
}

func mean(xs []float64) float64 {
	var s float64
	var n int
	for _, x := range xs {
		if !math.IsNaN(x) {
			s += x
			n++
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return s / float64(n)
}

// etaLabel formats η for names and labels (0.5 → "0.5").
func etaLabel(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// seedLabel names a group by its loss and seed.
func seedLabel(loss string, seed uint64) string {
	if loss == "" {
		return fmt.Sprintf("seed%d", seed)
	}
	return fmt.Sprintf("%s_seed%d", loss, seed)
}

func joinAny[T any](xs []T) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ", ")
}

// joinLosses writes losses by name: "ce, mse".
func joinLosses(ls []nn.Loss) string {
	names := make([]string, len(ls))
	for i, l := range ls {
		names[i] = l.String()
	}
	return strings.Join(names, ", ")
}

// joinInts writes widths as "16-16".
func joinInts(w []int) string {
	s := make([]string, len(w))
	for i, v := range w {
		s[i] = fmt.Sprint(v)
	}
	return strings.Join(s, "-")
}

// first is x[0], NaN for an empty x.
func first(x []float64) float64 {
	if len(x) == 0 {
		return math.NaN()
	}
	return x[0]
}
