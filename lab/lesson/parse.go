package lesson

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/pelletier/go-toml/v2/unstable"

	"sharpflat/internal/safetext"
	"sharpflat/lab/train"
)

// Reading a lesson takes two passes. The first (build) walks the TOML document with
// go-toml's unstable parser and gathers it into a tree of tables that remembers where every
// key and value was written, applying TOML's rules on tables, dotted keys and duplicates.
// The second (decoder) fills a Lesson from the tree, checking names, types and ranges, so
// that every message can point at a line and column.

const (
	maxSteps    = 50      // the most steps a lesson may have
	maxFileSize = 1 << 20 // Load refuses larger files
)

// MaxTrainSteps is the most training steps one lesson step may ask for (until.steps,
// until.max_steps). A classroom lesson step is minutes long; a million steps of the smallest
// preset take minutes and of the demo preset hours, so a larger number is a typo, and an
// open-ended wait would keep `lesson --check` busy for days.
const MaxTrainSteps = 1_000_000

// The fields of each table, for messages.
var (
	lessonFields = []string{"title", "summary", "preset", "seed", "step"}
	stepFields   = []string{"title", "caption", "show", "do", "until", "expect"}
	doFields     = []string{"preset", "seed", "reset", "rollback", "alpha", "w_dom", "w_bulk", "lr",
		"momentum", "batch", "k", "refresh", "recompute", "checkpoint", "pause", "race"}
	untilFields  = []string{"steps", "metric", "above", "below", "max_steps", "auto"}
	expectFields = []string{"metric", "above", "below", "throughout", "falls_by", "rises_by", "within"}
)

// Error is a problem in a lesson file, at a line and column, in a field.
type Error struct {
	File  string // the name given to Parse, or the path given to Load
	Line  int    // 1-based; 0 when the problem is with the file as a whole
	Col   int    // 1-based, counted in characters; 0 when unknown
	Field string // where in the lesson ("step[2].until.metric"); empty for a syntax error
	Msg   string // what is wrong, and what was expected
}

// Error formats the problem as "FILE:LINE:COL: FIELD: MSG", leaving out the parts that are
// empty.
func (e *Error) Error() string {
	loc := e.File
	if e.Line > 0 {
		if loc != "" {
			loc += ":"
		}
		loc += strconv.Itoa(e.Line)
		if e.Col > 0 {
			loc += ":" + strconv.Itoa(e.Col)
		}
	}
	var parts []string
	for _, s := range []string{loc, e.Field, e.Msg} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, ": ")
}

// Load reads and parses a lesson file. It refuses anything but a regular file of at most
// 1 MiB (with an *Error); errors reading the file are returned as they are (fs.ErrNotExist, …).
func Load(path string) (*Lesson, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if err := checkFile(path, fi); err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err = f.Stat(); err != nil { // it may have changed since
		return nil, err
	}
	if err := checkFile(path, fi); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxFileSize {
		return nil, &Error{File: path, Msg: "too large (a lesson file is at most 1 MiB)"}
	}
	return Parse(path, data)
}

// checkFile refuses a file that is not a regular file of at most maxFileSize bytes.
func checkFile(path string, fi os.FileInfo) error {
	switch {
	case fi.IsDir():
		return &Error{File: path, Msg: "is a directory, not a lesson file"}
	case !fi.Mode().IsRegular():
		return &Error{File: path, Msg: "not a regular file"}
	case fi.Size() > maxFileSize:
		return &Error{File: path, Msg: fmt.Sprintf("too large (%d bytes; a lesson file is at most 1 MiB)", fi.Size())}
	}
	return nil
}

// Parse reads a lesson from data. The name is the file name used in messages; the lesson's
// Name is its base name without the .toml extension. An error is always an *Error.
func Parse(name string, data []byte) (*Lesson, error) {
	src := newSource(name, bytes.TrimPrefix(data, []byte("\uFEFF")))
	root, err := build(src)
	if err != nil {
		return nil, err
	}
	d := &decoder{source: src}
	if e := root.get("preset"); e != nil && e.val.kind == unstable.String {
		if c, err := train.Preset(e.val.text); err == nil {
			d.cfg = &c
		}
	}
	l := d.lesson(root)
	if d.err != nil {
		return nil, d.err
	}
	l.Name = strings.TrimSuffix(filepath.Base(name), ".toml")
	l.File = name
	return l, nil
}

// source is the text of a lesson file, to turn byte offsets into lines and columns.
type source struct {
	file  string
	data  []byte
	lines []int // the offset at which each line starts
}

func newSource(file string, data []byte) *source {
	s := &source{file: file, data: data, lines: []int{0}}
	for i, c := range data {
		if c == '\n' {
			s.lines = append(s.lines, i+1)
		}
	}
	return s
}

// lineOf is the line of a byte offset.
func (s *source) lineOf(off int) int {
	return sort.Search(len(s.lines), func(i int) bool { return s.lines[i] > off })
}

// pos is the line and column (in characters) of a byte offset.
func (s *source) pos(off int) (line, col int) {
	off = min(max(off, 0), len(s.data))
	line = s.lineOf(off)
	return line, utf8.RuneCount(s.data[s.lines[line-1]:off]) + 1
}

// errorf is a problem at a byte offset.
func (s *source) errorf(off int, field, format string, args ...any) *Error {
	line, col := s.pos(off)
	return &Error{File: s.file, Line: line, Col: col, Field: field, Msg: fmt.Sprintf(format, args...)}
}

// The ways a table comes to be, which decide how it may be extended (TOML's rules).
const (
	implicit = iota // named by a header for a sub-table ("step" in [x.step.do]): a header may still define it
	header          // [header] or [[header]]
	dotted          // dotted keys (do.lr = 0.1): more dotted keys may add to it
	inline          // { … }: closed
)

// table is a TOML table with where it was written.
type table struct {
	path    string // the field it is ("step[2].do"; "" for the top level)
	off     int    // where it starts: its header's "[", its "{", or the key that made it
	how     int    // implicit, header, dotted or inline
	entries []*entry
	keys    map[string]*entry
}

// entry is a key of a table and its value.
type entry struct {
	key   string
	field string // the table's path and the key ("step[2].do.lr")
	off   int    // where the key is written
	val   *value
}

// value is a TOML value with where it was written.
type value struct {
	kind  unstable.Kind // String, Bool, Integer, Float, a date/time kind, Array or Table
	off   int           // where it starts
	text  string        // a string's value; the source text of other scalars
	items []*value      // an array's elements
	aot   bool          // an array of tables made by [[header]]s (more may be appended)
	tab   *table        // a table's contents
}

// get is the entry of a key (nil if absent).
func (t *table) get(key string) *entry { return t.keys[key] }

// add adds a key at offset off with value v, and returns its entry.
func (t *table) add(key string, off int, v *value) *entry {
	e := &entry{key: key, field: join(t.path, key), off: off, val: v}
	t.entries = append(t.entries, e)
	if t.keys == nil {
		t.keys = map[string]*entry{}
	}
	t.keys[key] = e
	return e
}

// newTable adds a key whose value is a new table.
func (t *table) newTable(key string, keyOff, off, how int) *table {
	sub := &table{path: join(t.path, key), off: off, how: how}
	t.add(key, keyOff, &value{kind: unstable.Table, off: off, tab: sub})
	return sub
}

// join appends a key to a path, quoting it unless it is a bare TOML key.
func join(path, key string) string {
	if key == "" || strings.IndexFunc(key, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-')
	}) >= 0 {
		key = strconv.Quote(short(key))
	}
	if path == "" {
		return key
	}
	return extend(path, "."+key)
}

// index is the path of an array's i-th element (0-based i, 1-based in messages).
func index(path string, i int) string { return extend(path, fmt.Sprintf("[%d]", i+1)) }

// extend appends to a path, unless it is absurdly long already (deeply nested arrays).
func extend(path, more string) string {
	switch {
	case len(path) < 200:
		return path + more
	case strings.HasSuffix(path, "…"):
		return path
	}
	return path + "…"
}

// builder gathers a TOML document into a tree of tables.
type builder struct {
	*source
	p    unstable.Parser
	root *table
	cur  *table // the table key-values go to: the latest header's
}

// build reads the document in src into a tree, or returns the first syntax error or the
// first breach of TOML's rules on keys and tables.
func build(src *source) (*table, *Error) {
	b := &builder{source: src, root: &table{how: header}}
	b.cur = b.root
	b.p.Reset(src.data)
	for b.p.NextExpression() {
		n := b.p.Expression()
		var err *Error
		switch n.Kind {
		case unstable.KeyValue:
			err = b.keyValue(b.cur, n)
		case unstable.Table, unstable.ArrayTable:
			b.cur, err = b.header(n)
		}
		if err != nil {
			return nil, err
		}
	}
	if err := b.p.Error(); err != nil {
		var perr *unstable.ParserError
		if errors.As(err, &perr) {
			return nil, src.errorf(b.offsetOf(perr.Highlight), "", "syntax error: %s", perr.Message)
		}
		return nil, src.errorf(len(src.data), "", "syntax error: %v", err)
	}
	return b.root, nil
}

// offsetOf is the offset of a slice of the document (the end for anything else).
func (b *builder) offsetOf(h []byte) int {
	off := cap(b.data) - cap(h)
	if h == nil || off < 0 || off > len(b.data) {
		return len(b.data)
	}
	return off
}

// key is one part of a (dotted) key.
type key struct {
	name     string
	off, end int // where it is written (with its quotes)
}

// keyParts are the parts of a key-value's or a header's (dotted) key.
func keyParts(n *unstable.Node) []key {
	var ks []key
	for it := n.Key(); it.Next(); {
		k := it.Node()
		off := int(k.Raw.Offset)
		ks = append(ks, key{string(k.Data), off, off + int(k.Raw.Length)})
	}
	return ks
}

// skipBlanks skips spaces and tabs from offset i.
func (b *builder) skipBlanks(i int) int {
	for i < len(b.data) && (b.data[i] == ' ' || b.data[i] == '\t') {
		i++
	}
	return i
}

// keyValue adds a key-value (its key maybe dotted) to table t.
func (b *builder) keyValue(t *table, n *unstable.Node) *Error {
	ks := keyParts(n)
	for _, k := range ks[:len(ks)-1] {
		e := t.get(k.name)
		switch {
		case e == nil:
			t = t.newTable(k.name, k.off, k.off, dotted)
		case e.val.kind == unstable.Table && e.val.tab.how == dotted:
			t = e.val.tab
		default:
			return b.errorf(k.off, e.field, "already defined at line %d; a dotted key cannot add to it", b.lineOf(e.off))
		}
	}
	last := ks[len(ks)-1]
	if e := t.get(last.name); e != nil {
		return b.errorf(last.off, e.field, "duplicate key (first set at line %d)", b.lineOf(e.off))
	}
	valOff := b.skipBlanks(b.skipBlanks(last.end) + 1) // after "="
	v, err := b.value(n.Value(), valOff, join(t.path, last.name))
	if err != nil {
		return err
	}
	t.add(last.name, last.off, v)
	return nil
}

// value converts a value node starting at offset off; path names it in messages.
func (b *builder) value(n *unstable.Node, off int, path string) (*value, *Error) {
	v := &value{kind: n.Kind, off: off}
	switch n.Kind {
	case unstable.String:
		v.text = strings.ReplaceAll(string(n.Data), "\r\n", "\n")
	case unstable.Array:
		for it := n.Children(); it.Next(); {
			c := it.Node()
			if c.Kind == unstable.Comment {
				continue
			}
			cOff := off // an array has no position of its own: use the outer one
			if c.Kind != unstable.Array {
				cOff = int(c.Raw.Offset)
			}
			item, err := b.value(c, cOff, index(path, len(v.items)))
			if err != nil {
				return nil, err
			}
			v.items = append(v.items, item)
		}
	case unstable.InlineTable:
		v.kind = unstable.Table
		v.tab = &table{path: path, off: off, how: inline}
		for it := n.Children(); it.Next(); {
			if c := it.Node(); c.Kind == unstable.KeyValue {
				if err := b.keyValue(v.tab, c); err != nil {
					return nil, err
				}
			}
		}
	default:
		v.text = string(n.Data)
	}
	return v, nil
}

// header handles a [table] or [[array table]] header and returns the table that the
// key-values after it go to.
func (b *builder) header(n *unstable.Node) (*table, *Error) {
	ks := keyParts(n)
	off := ks[0].off - 1
	for off >= 0 && (b.data[off] == ' ' || b.data[off] == '\t') {
		off--
	}
	for off >= 0 && b.data[off] == '[' {
		off--
	}
	off++ // the first "["
	t := b.root
	for _, k := range ks[:len(ks)-1] {
		e := t.get(k.name)
		switch {
		case e == nil:
			t = t.newTable(k.name, k.off, k.off, implicit)
		case e.val.kind == unstable.Table && e.val.tab.how != inline:
			t = e.val.tab
		case e.val.aot:
			t = e.val.items[len(e.val.items)-1].tab // the latest [[…]]
		default:
			return nil, b.errorf(k.off, e.field, "already defined at line %d; a [table] header cannot add to it", b.lineOf(e.off))
		}
	}
	last := ks[len(ks)-1]
	e := t.get(last.name)
	var names []string
	for _, k := range ks {
		names = append(names, k.name)
	}
	name := strings.Join(names, ".")
	if n.Kind == unstable.ArrayTable {
		switch {
		case e == nil:
			e = t.add(last.name, last.off, &value{kind: unstable.Array, off: off, aot: true})
		case e.val.aot:
		case e.val.kind == unstable.Table && e.val.tab.how == implicit:
			return nil, b.errorf(off, e.field, "already a table (made by the header at line %d); a sub-table's header must come after the [[%s]] it belongs to", b.lineOf(e.off), name)
		case e.val.kind == unstable.Table && e.val.tab.how == header:
			return nil, b.errorf(off, e.field, "already a table ([%s] at line %d), not an array of tables", name, b.lineOf(e.val.off))
		case e.val.kind == unstable.Array:
			return nil, b.errorf(off, e.field, "already set inline at line %d; a [[%s]] header cannot add to it", b.lineOf(e.off), name)
		default:
			return nil, b.errorf(off, e.field, "already defined at line %d; a [[%s]] header cannot add to it", b.lineOf(e.off), name)
		}
		sub := &table{path: index(e.field, len(e.val.items)), off: off, how: header}
		e.val.items = append(e.val.items, &value{kind: unstable.Table, off: off, tab: sub})
		return sub, nil
	}
	switch {
	case e == nil:
		return t.newTable(last.name, last.off, off, header), nil
	case e.val.kind == unstable.Table && e.val.tab.how == implicit:
		e.val.off, e.val.tab.off, e.val.tab.how = off, off, header
		return e.val.tab, nil
	case e.val.kind == unstable.Table && e.val.tab.how == header:
		return nil, b.errorf(off, e.field, "table defined twice (first at line %d)", b.lineOf(e.val.off))
	case e.val.aot:
		return nil, b.errorf(off, e.field, "is an array of tables: write [[%s]]", name)
	default:
		return nil, b.errorf(off, e.field, "already defined at line %d; a [table] header cannot add to it", b.lineOf(e.off))
	}
}

// decoder fills a lesson from the tree, keeping the first problem it finds.
type decoder struct {
	*source
	err *Error
	// The race in force, as the steps decoded so far leave it (race.go).
	race     []string
	raceLine int      // the line of the step that started it
	refs     []armUse // the arms named by the step being decoded, checked at its end
	// The configuration in force, as the lesson's preset and the steps decoded so far leave
	// its setup (setup.go); nil until the lesson's preset is known.
	cfg *train.Config
}

// failf records a problem at a byte offset, unless one was found before.
func (d *decoder) failf(off int, field, format string, args ...any) {
	if d.err == nil {
		d.err = d.errorf(off, field, format, args...)
	}
}

// unknown reports a key that is not a field of its table.
func (d *decoder) unknown(e *entry, what string, fields []string) {
	d.failf(e.off, e.field, "unknown field (%sfields of %s: %s)", didYouMean(e.key, fields), what, strings.Join(fields, ", "))
}

// missing reports a required field that t lacks.
func (d *decoder) missing(t *table, key, hint string) {
	if t.get(key) == nil {
		d.failf(t.off, join(t.path, key), "missing (%s)", hint)
	}
}

// conflict reports two fields of t that may not be used together, at the later one.
func (d *decoder) conflict(t *table, a, b, why string) {
	ea, eb := t.get(a), t.get(b)
	if ea == nil || eb == nil {
		return
	}
	if ea.off > eb.off {
		ea, eb = eb, ea
	}
	d.failf(eb.off, eb.field, "cannot be used with %s (%s)", ea.key, why)
}

// wrongType reports a value of the wrong type.
func (d *decoder) wrongType(field string, v *value, want string) {
	d.failf(v.off, field, "expected %s, got %s", want, kindName(v))
}

func kindName(v *value) string {
	switch v.kind {
	case unstable.String:
		return "a string"
	case unstable.Bool:
		return "a boolean"
	case unstable.Integer:
		return "an integer"
	case unstable.Float:
		return "a float"
	case unstable.Array:
		return "an array"
	case unstable.Table:
		return "a table"
	case unstable.LocalDate:
		return "a date"
	case unstable.LocalTime:
		return "a time"
	}
	return "a date-time"
}

// str is a string field.
func (d *decoder) str(e *entry) (string, bool) {
	if e.val.kind != unstable.String {
		d.wrongType(e.field, e.val, "a string")
		return "", false
	}
	if i, r, bad := controlChar(e.val.text); bad {
		d.failf(e.val.off, e.field, "control character %s at character %d of the text: a lesson's text reaches terminals, where it would act (write it without escape sequences)", safetext.Line(string(r)), i)
		return "", false
	}
	return e.val.text, true
}

// controlChar finds the first rune of s a terminal would act on (newlines and tabs pass:
// text() refuses newlines where one line is wanted): its 1-based position in characters.
func controlChar(s string) (pos int, r rune, bad bool) {
	n := 0
	for _, r := range s {
		n++
		if safetext.Executable(string(r)) { // an invalid byte comes as utf8.RuneError, which is
			return n, r, true
		}
	}
	return 0, 0, false
}

// text is a one-line text field (trimmed); required says it may not be empty.
func (d *decoder) text(e *entry, required bool) string {
	s, ok := d.str(e)
	s = strings.TrimSpace(s)
	switch {
	case !ok:
	case required && s == "":
		d.failf(e.val.off, e.field, "expected some text, got none")
	case strings.ContainsAny(s, "\r\n"):
		d.failf(e.val.off, e.field, "expected one line of text, got several")
	}
	return s
}

// boolean is a true/false field.
func (d *decoder) boolean(e *entry) bool {
	if e.val.kind != unstable.Bool {
		d.wrongType(e.field, e.val, "a boolean (true or false)")
		return false
	}
	return e.val.text == "true"
}

// integer is an integer field in [lo, hi]; want says so in words ("an integer ≥ 1").
func (d *decoder) integer(e *entry, want string, lo, hi int64) (int64, bool) {
	if e.val.kind != unstable.Integer {
		d.wrongType(e.field, e.val, "an integer")
		return 0, false
	}
	v, err := parseInt(e.val.text)
	if err != nil || v < lo || v > hi {
		d.failf(e.val.off, e.field, "expected %s, got %s", want, short(e.val.text))
		return 0, false
	}
	return v, true
}

// intPtr is an integer field as a pointer (nil after a problem).
func (d *decoder) intPtr(e *entry, want string, lo, hi int64) *int {
	if v, ok := d.integer(e, want, lo, hi); ok {
		n := int(v)
		return &n
	}
	return nil
}

// seed is a seed field: an integer ≥ 1.
func (d *decoder) seed(e *entry) (uint64, bool) {
	v, ok := d.integer(e, "an integer ≥ 1", 1, math.MaxInt64)
	return uint64(v), ok
}

// number is a number field (an integer will do) for which ok holds; want says so in words.
func (d *decoder) number(e *entry, want string, ok func(float64) bool) (float64, bool) {
	var v float64
	switch e.val.kind {
	case unstable.Float:
		v = parseFloat(e.val.text)
	case unstable.Integer:
		n, err := parseInt(e.val.text)
		v = float64(n)
		if err != nil {
			v = math.NaN()
		}
	default:
		d.wrongType(e.field, e.val, "a number")
		return 0, false
	}
	if !ok(v) {
		d.failf(e.val.off, e.field, "expected %s, got %s", want, short(e.val.text))
		return 0, false
	}
	return v, true
}

// numPtr is a number field as a pointer (nil after a problem).
func (d *decoder) numPtr(e *entry, want string, ok func(float64) bool) *float64 {
	if v, good := d.number(e, want, ok); good {
		return &v
	}
	return nil
}

func finite(v float64) bool   { return !math.IsNaN(v) && !math.IsInf(v, 0) }
func positive(v float64) bool { return v > 0 && finite(v) }
func within(lo, hi float64) func(float64) bool {
	return func(v float64) bool { return v >= lo && v <= hi }
}

// parseInt reads a TOML integer the parser has checked (decimal, 0x, 0o or 0b, with _).
func parseInt(s string) (int64, error) {
	s = strings.ReplaceAll(s, "_", "")
	if len(s) > 2 && s[0] == '0' {
		switch s[1] {
		case 'x':
			return strconv.ParseInt(s[2:], 16, 64)
		case 'o':
			return strconv.ParseInt(s[2:], 8, 64)
		case 'b':
			return strconv.ParseInt(s[2:], 2, 64)
		}
	}
	return strconv.ParseInt(s, 10, 64)
}

// parseFloat reads a TOML float the parser has checked (NaN if it cannot).
func parseFloat(s string) float64 {
	s = strings.ReplaceAll(s, "_", "")
	if strings.HasSuffix(s, "nan") {
		return math.NaN()
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) { // out of range: ±Inf or 0
		return math.NaN()
	}
	return v
}

// table is a field whose value is a table.
func (d *decoder) table(e *entry) *table {
	if e.val.kind != unstable.Table {
		d.wrongType(e.field, e.val, "a table")
		return nil
	}
	return e.val.tab
}

// tables is a field whose value is an array of tables; want names it in messages.
func (d *decoder) tables(e *entry, want string) []*table {
	if e.val.kind != unstable.Array {
		d.wrongType(e.field, e.val, want)
		return nil
	}
	var ts []*table
	for i, v := range e.val.items {
		if v.kind != unstable.Table {
			d.wrongType(index(e.field, i), v, "a table")
			return nil
		}
		ts = append(ts, v.tab)
	}
	return ts
}

// preset is a preset name.
func (d *decoder) preset(e *entry) string {
	s, ok := d.str(e)
	if ok && !slices.Contains(train.Presets(), s) {
		d.failf(e.val.off, e.field, "unknown preset %q (%spresets: %s)", short(s), didYouMean(s, train.Presets()), strings.Join(train.Presets(), ", "))
	}
	return s
}

// show is a view of the spectrum panel (Views).
func (d *decoder) show(e *entry) string {
	s, ok := d.str(e)
	if ok && !slices.Contains(Views, s) {
		d.failf(e.val.off, e.field, "unknown view %q (%sviews: %s)", short(s), didYouMean(s, Views), strings.Join(Views, ", "))
	}
	return s
}

// metric is a metric name, or a metric of an arm of the race ("train_loss@bulk", see
// metricRef).
func (d *decoder) metric(e *entry) string {
	s, ok := d.str(e)
	if !ok {
		return s
	}
	return d.metricRef(e, s)
}

// lesson decodes the top-level table.
func (d *decoder) lesson(t *table) *Lesson {
	l := &Lesson{}
	for _, e := range t.entries {
		switch e.key {
		case "title":
			l.Title = d.text(e, true)
		case "summary":
			l.Summary = d.text(e, false)
		case "preset":
			l.Preset = d.preset(e)
		case "seed":
			l.Seed, _ = d.seed(e)
		case "step":
			l.Steps = d.steps(e)
		default:
			d.unknown(e, "a lesson", lessonFields)
		}
	}
	d.missing(t, "title", "a lesson needs a title")
	d.missing(t, "preset", "presets: "+strings.Join(train.Presets(), ", "))
	d.missing(t, "step", "a lesson needs at least one [[step]]")
	return l
}

// steps decodes the [[step]] tables.
func (d *decoder) steps(e *entry) []Step {
	ts := d.tables(e, "an array of tables ([[step]])")
	switch {
	case d.err != nil:
		return nil
	case len(ts) == 0:
		d.failf(e.val.off, e.field, "expected at least one step")
	case len(ts) > maxSteps:
		d.failf(ts[maxSteps].off, ts[maxSteps].path, "too many steps (at most %d)", maxSteps)
	}
	var steps []Step
	for _, t := range ts {
		steps = append(steps, d.step(t))
	}
	return steps
}

// step decodes one step; a step with claims must train.
func (d *decoder) step(t *table) Step {
	s := Step{Line: d.lineOf(t.off)}
	d.refs = nil
	defer func() { d.raceStep(t, &s) }()
	var expect *entry
	for _, e := range t.entries {
		switch e.key {
		case "title":
			s.Title = d.text(e, false)
		case "caption":
			if c, ok := d.str(e); ok {
				s.Caption = strings.TrimSpace(c)
				if s.Caption == "" {
					d.failf(e.val.off, e.field, "expected some text (what the step shows), got none")
				}
			}
		case "show":
			s.Show = d.show(e)
		case "do":
			if dt := d.table(e); dt != nil {
				s.Do = d.actions(dt)
			}
		case "until":
			if ut := d.table(e); ut != nil {
				s.Until = d.until(ut)
			}
		case "expect":
			expect = e
			for _, et := range d.tables(e, "an array of tables ([[step.expect]] or expect = [ { … } ])") {
				s.Expect = append(s.Expect, d.expect(et))
			}
		default:
			d.unknown(e, "a step", stepFields)
		}
	}
	d.missing(t, "caption", "the text the step shows")
	if len(s.Expect) > 0 && (!s.Until.Trains() || s.Do.Pause) {
		const why = "a claim needs a step that trains (until.steps or until.metric), so that it is checked at a fixed point"
		if s.Do.Pause {
			d.failf(expect.val.items[0].off, expect.field, "%s; this step has do.pause = true", why)
		} else {
			d.failf(expect.val.items[0].off, expect.field, "%s", why)
		}
	}
	return s
}

// actions decodes a step's do table.
func (d *decoder) actions(t *table) Actions {
	var a Actions
	for _, e := range t.entries {
		switch e.key {
		case "preset":
			a.Preset = d.preset(e)
		case "seed":
			if v, ok := d.seed(e); ok {
				a.Seed = &v
			}
		case "reset":
			a.Reset = d.boolean(e)
		case "rollback":
			a.Rollback = d.boolean(e)
		case "alpha":
			a.Alpha = d.numPtr(e, "a number in [0, 1]", within(0, 1))
		case "w_dom":
			a.WDom = d.numPtr(e, "a number in [0, 10]", within(0, 10))
		case "w_bulk":
			a.WBulk = d.numPtr(e, "a number in [0, 10]", within(0, 10))
		case "lr":
			a.LR = d.numPtr(e, "a number > 0", positive)
		case "momentum":
			a.Momentum = d.numPtr(e, "a number in [0, 1)", func(v float64) bool { return v >= 0 && v < 1 })
		case "batch":
			a.Batch = d.intPtr(e, "an integer ≥ 0 (0: full batch)", 0, math.MaxInt)
		case "k":
			a.K = d.intPtr(e, "an integer in [1, 1000]", 1, 1000)
		case "refresh":
			a.Refresh = d.intPtr(e, "an integer ≥ 0 (0: only on request)", 0, math.MaxInt)
		case "recompute":
			a.Recompute = d.boolean(e)
		case "checkpoint":
			a.Checkpoint = d.boolean(e)
		case "pause":
			a.Pause = d.boolean(e)
		case "race":
			a.Race = d.raceArms(e)
		default:
			if kind := setupKind(e.key); kind >= 0 {
				if s, ok := d.setting(e, kind); ok {
					a.Setup = append(a.Setup, s)
				}
				break
			}
			d.unknown(e, "do", append(slices.Clip(doFields), SetupKeys()...))
		}
	}
	const why = "alpha sets both weights; give alpha, or w_dom and w_bulk"
	d.conflict(t, "alpha", "w_dom", why)
	d.conflict(t, "alpha", "w_bulk", why)
	d.setupInForce(t, a)
	return a
}

// until decodes a step's until table: steps, or a metric crossing one threshold.
func (d *decoder) until(t *table) Until {
	var u Until
	for _, e := range t.entries {
		switch e.key {
		case "steps":
			if v, ok := d.integer(e, fmt.Sprintf("an integer in [1, %d] (a lesson step trains at most %d steps)", MaxTrainSteps, MaxTrainSteps), 1, MaxTrainSteps); ok {
				u.Steps = int(v)
			}
		case "metric":
			u.Metric = d.metric(e)
		case "above":
			u.Above = d.numPtr(e, "a finite number", finite)
		case "below":
			u.Below = d.numPtr(e, "a finite number", finite)
		case "max_steps":
			if v, ok := d.integer(e, fmt.Sprintf("an integer in [1, %d] (a lesson step trains at most %d steps)", MaxTrainSteps, MaxTrainSteps), 1, MaxTrainSteps); ok {
				u.MaxSteps = int(v)
			}
		case "auto":
			u.Auto = d.boolean(e)
		default:
			d.unknown(e, "until", untilFields)
		}
	}
	d.conflict(t, "steps", "metric", "train a number of steps, or until a metric crosses a value")
	if m := t.get("metric"); m != nil {
		d.conflict(t, "above", "below", "a condition waits for one threshold")
		if t.get("above") == nil && t.get("below") == nil {
			d.failf(m.off, m.field, "needs above or below (the value to wait for)")
		}
	} else {
		for _, k := range []string{"above", "below", "max_steps"} {
			if e := t.get(k); e != nil {
				d.failf(e.off, e.field, "only with metric (the metric to wait for)")
			}
		}
	}
	if e := t.get("auto"); e != nil && u.Auto && t.get("steps") == nil && t.get("metric") == nil {
		d.failf(e.off, e.field, "only with steps or metric (a step that does not train waits for the user)")
	}
	return u
}

// expect decodes one claim: a metric and exactly one relation.
func (d *decoder) expect(t *table) Expect {
	x := Expect{Line: d.lineOf(t.off)}
	var relations []*entry // in the order written
	for _, e := range t.entries {
		switch e.key {
		case "metric":
			x.Metric = d.metric(e)
		case "above":
			if e.val.kind == unstable.String {
				x.AboveMetric = d.metric(e)
			} else {
				x.Above = d.numPtr(e, "a finite number, or a metric to compare with (\"train_loss@dom\")", finite)
			}
		case "below":
			if e.val.kind == unstable.String {
				x.BelowMetric = d.metric(e)
			} else {
				x.Below = d.numPtr(e, "a finite number, or a metric to compare with (\"train_loss@dom\")", finite)
			}
		case "throughout":
			x.Throughout = d.boolean(e)
		case "falls_by":
			x.FallsBy = d.numPtr(e, "a number > 0 (a fraction: 0.5 is 50%)", positive)
		case "rises_by":
			x.RisesBy = d.numPtr(e, "a number > 0 (a fraction: 0.5 is 50%)", positive)
		case "within":
			x.Within = d.numPtr(e, "a number > 0 (a fraction: 0.1 is 10%)", positive)
		default:
			d.unknown(e, "expect", expectFields)
		}
		if slices.Contains([]string{"above", "below", "falls_by", "rises_by", "within"}, e.key) {
			relations = append(relations, e)
		}
	}
	d.missing(t, "metric", "metrics: "+strings.Join(Metrics(), ", "))
	kind := func(e *entry) string { // above and below together are one relation: between
		if e.key == "below" {
			return "above"
		}
		return e.key
	}
	if len(relations) == 0 {
		d.failf(t.off, t.path, "no relation (give above, below, falls_by, rises_by or within)")
	}
	for _, e := range relations {
		if kind(e) != kind(relations[0]) {
			d.failf(e.off, e.field, "cannot be used with %s (a claim states one relation)", relations[0].key)
		}
	}
	d.comparison(t, &x)
	if x.Above != nil && x.Below != nil && !(*x.Above < *x.Below) {
		e := t.get("below")
		d.failf(e.val.off, e.field, "expected a number > above (%s), got %s", Num(*x.Above), short(e.val.text))
	}
	if e := t.get("throughout"); e != nil && x.Throughout && x.Above == nil && x.Below == nil {
		if x.AboveMetric != "" || x.BelowMetric != "" {
			d.failf(e.off, e.field, "only with a number in above or below (a comparison of two metrics is judged at the step's end)")
		} else {
			d.failf(e.off, e.field, "only with above or below")
		}
	}
	return x
}

// didYouMean suggests the name closest to s, if one is close ("did you mean "x"? "), or "".
func didYouMean(s string, names []string) string {
	n := utf8.RuneCountInString(s)
	if n > 40 {
		return ""
	}
	best, bestDist := "", max(1, n/3)+1 // at most a third of s may differ
	for _, name := range names {
		dist := editDistance(strings.ToLower(s), strings.ToLower(name))
		if dist < bestDist && dist < min(n, utf8.RuneCountInString(name)) { // not a different word
			best, bestDist = name, dist
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf("did you mean %q? ", best)
}

// editDistance counts the runes to insert, delete or change, and the neighbours to swap, to
// turn a into b (the optimal string alignment distance).
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1) // d[i][j]: the distance between ra[:i] and rb[:j]
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}

// short cuts a text for a message to 40 characters.
func short(s string) string {
	if utf8.RuneCountInString(s) <= 40 {
		return s
	}
	return string([]rune(s)[:39]) + "…"
}
