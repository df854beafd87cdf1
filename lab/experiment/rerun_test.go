package experiment

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
)

// submit.sh run again while the first report job runs puts two reports at work in one
// directory; a reader (a colleague, the other report) must never see summary.csv, a figure or
// report.md torn: each file is written to a temporary file and renamed into place. That is
// checked without racing a reader against a writer (which catches a torn file only if a read
// happens to land mid-write): a file renamed into place is a new file (os.SameFile is false
// for the old and new path), and a reader that opened it before the report still reads the
// old content whole; a file rewritten in place keeps its identity and its reader sees the new
// bytes, or a mix. No temporary file is left beside them.
func TestReportFilesReplacedByRename(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows does not rename over a file that is open")
	}
	dir := t.TempDir()
	rep, err := quickRun(t, context.Background(), "switch", dir, Sweep{Warmup: -1})
	if err != nil {
		t.Fatal(err)
	}
	files := []string{"summary.csv", "report.md"}
	for _, f := range rep.Figures {
		files = append(files, f.File)
	}
	type before struct {
		f    *os.File
		info os.FileInfo
		raw  []byte
	}
	old := map[string]before{}
	for _, name := range files {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		info, err := f.Stat()
		if err != nil {
			t.Fatal(err)
		}
		raw, err := io.ReadAll(f)
		if err != nil || len(raw) == 0 {
			t.Fatalf("%s: %d bytes, %v", name, len(raw), err)
		}
		old[name] = before{f, info, raw}
	}
	entries := func() []string {
		var names []string
		for _, d := range []string{dir, filepath.Dir(filepath.Join(dir, rep.Figures[0].File))} {
			es, err := os.ReadDir(d)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range es {
				names = append(names, filepath.Join(d, e.Name()))
			}
		}
		slices.Sort(names)
		return slices.Compact(names)
	}
	was := entries()

	x, _ := Lookup("switch")
	base, err := x.BaseConfig(true)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := x.Report(base, Sweep{Quick: true, Warmup: -1}, dir, "test"); err != nil {
		t.Fatal(err)
	}
	for _, name := range files {
		o := old[name]
		info, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if os.SameFile(o.info, info) {
			t.Errorf("%s was rewritten in place, not renamed into place: a reader can see it torn", name)
		}
		again := make([]byte, len(o.raw)+1)
		n, _ := o.f.ReadAt(again, 0)
		if !bytes.Equal(again[:n], o.raw) {
			t.Errorf("%s: a reader that opened it before the report reads %d other bytes", name, n)
		}
	}
	if now := entries(); !slices.Equal(now, was) {
		t.Errorf("the report left other files: before %q, after %q", was, now)
	}
}
