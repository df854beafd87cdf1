package lesson

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
)

// The built-in lessons, one file each in builtin/, listed in the order of their file names
// (a number prefix orders them; Name leaves it out).
//
//go:embed builtin/*.toml
var builtinFS embed.FS

var builtins = func() []*Lesson {
	names, err := fs.Glob(builtinFS, "builtin/*.toml")
	if err != nil {
		panic(err)
	}
	sort.Strings(names)
	var ls []*Lesson
	for _, n := range names {
		data, err := builtinFS.ReadFile(n)
		if err != nil {
			panic(err)
		}
		l, err := Parse(n, data)
		if err != nil {
			panic(fmt.Sprintf("built-in lesson: %v", err)) // TestBuiltinLessonsParse names it
		}
		l.Name = strings.TrimLeft(strings.TrimSuffix(path.Base(n), ".toml"), "0123456789-")
		ls = append(ls, l)
	}
	return ls
}()

// Builtin returns the built-in lessons in their order. They are shared: do not change them.
func Builtin() []*Lesson { return builtins }

// BuiltinSource returns the text of the built-in lesson with this name.
func BuiltinSource(name string) ([]byte, bool) {
	names, _ := fs.Glob(builtinFS, "builtin/*.toml")
	for _, n := range names {
		if strings.TrimLeft(strings.TrimSuffix(path.Base(n), ".toml"), "0123456789-") == name {
			data, err := builtinFS.ReadFile(n)
			return data, err == nil
		}
	}
	return nil, false
}

// Find returns the built-in lesson of that name or, if arg names a file (it has a path
// separator or the .toml extension, or exists), the lesson in that file.
func Find(arg string) (*Lesson, error) {
	for _, l := range builtins {
		if l.Name == arg {
			return l, nil
		}
	}
	if strings.ContainsRune(arg, os.PathSeparator) || strings.HasSuffix(arg, ".toml") {
		return Load(arg)
	}
	if _, err := os.Stat(arg); err == nil {
		return Load(arg)
	}
	names := make([]string, len(builtins))
	for i, l := range builtins {
		names[i] = l.Name
	}
	return nil, fmt.Errorf("no lesson %q: the built-in lessons are %s (or give a lesson file's path)", arg, strings.Join(names, ", "))
}
