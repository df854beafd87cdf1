package main

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The packages depend on each other one way (each package's doc.go says the same): the
// terminal lab on the engine, the engine and the experiments on the trainer, the trainer on
// the numerics, and the numerics on nothing of ours.
var allowedImports = map[string][]string{
	"internal/gemm":     {},
	"internal/vecmath":  {},
	"internal/safetext": {},
	"internal/tempfile": {},
	"internal/team":     {},
	"nn":                {"internal/safetext", "internal/tempfile", "internal/gemm", "internal/vecmath", "internal/team"},
	"linalg":            {"internal/gemm", "internal/team"},
	"lab/train":         {"internal/safetext", "nn", "linalg"},
	"lab/rundir":        {"internal/safetext", "internal/tempfile", "lab/train", "nn"},
	"lab/lesson":        {"internal/safetext", "lab/train", "nn"},
	"lab":               {"internal/safetext", "lab/train", "lab/rundir", "lab/lesson", "nn", "linalg"},
	"lab/experiment":    {"internal/safetext", "lab/train", "lab/rundir", "nn", "linalg"},
	"tui":               {"internal/safetext", "lab", "lab/train", "lab/lesson", "linalg"},
	"tui/serve":         {"internal/safetext", "tui", "lab", "lab/lesson", "lab/train"},
}

// terminal packages only tui and its subpackages may import.
var terminalPrefixes = []string{"github.com/charmbracelet/", "github.com/NimbleMarkets/", "github.com/muesli/"}

func TestImportGraph(t *testing.T) {
	for pkg, allowed := range allowedImports {
		files, _ := filepath.Glob(filepath.Join(pkg, "*.go"))
		if len(files) == 0 {
			t.Errorf("package %s: no files", pkg)
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			af, err := parser.ParseFile(token.NewFileSet(), f, src, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range af.Imports {
				path, _ := strconv.Unquote(imp.Path.Value)
				if own, ok := strings.CutPrefix(path, "sharpflat/"); ok {
					if !contains(allowed, own) && !strings.HasPrefix(own, pkg+"/internal") {
						t.Errorf("%s imports %s; %s may import only %v", f, path, pkg, allowed)
					}
				}
				for _, p := range terminalPrefixes {
					if strings.HasPrefix(path, p) && !strings.HasPrefix(pkg, "tui") {
						t.Errorf("%s imports the terminal package %s", f, path)
					}
				}
			}
		}
	}
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}
