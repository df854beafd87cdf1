package train

// The table of Config's fields, read from its struct tags once: flags, JSON overrides,
// experiment defaults and validation all go through it, so a field is written in one place.

import (
	"encoding"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"sharpflat/nn"
)

// Field describes one setting of Config.
type Field struct {
	Name  string // command-line flag, e.g. "lr", "w-dom"
	JSON  string // key in config.json, e.g. "lr", "w_dom"
	Usage string // help text

	index     []int
	allowed   interval
	note      string
	omitEmpty bool // config.json leaves the field out at its zero value (a setting added later: omitempty or omitzero)
}

// fields is the table, in Config's order; only fields with a `flag` tag are settings.
var fields = readFields()

// Fields returns the settings of Config in declaration order.
func Fields() []Field { return append([]Field(nil), fields...) }

// FieldByName returns the field whose flag name is name.
func FieldByName(name string) (Field, bool) {
	for _, f := range fields {
		if f.Name == name {
			return f, true
		}
	}
	return Field{}, false
}

// SetField parses value into the field of c whose flag name is name.
func SetField(c *Config, name, value string) error {
	f, ok := FieldByName(name)
	if !ok {
		return fmt.Errorf("unknown setting %q", name)
	}
	return f.Set(c, value)
}

func readFields() []Field {
	var fs []Field
	t := reflect.TypeOf(Config{})
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		name := sf.Tag.Get("flag")
		if name == "" {
			continue
		}
		js := strings.Split(sf.Tag.Get("json"), ",")
		f := Field{Name: name, JSON: js[0], Usage: sf.Tag.Get("help"),
			index: sf.Index, note: sf.Tag.Get("note"), omitEmpty: slices.Contains(js[1:], "omitempty") || slices.Contains(js[1:], "omitzero")}
		if c := sf.Tag.Get("check"); c != "" {
			iv, err := parseInterval(c)
			if err != nil {
				panic(fmt.Sprintf("train: Config.%s: %v", sf.Name, err))
			}
			f.allowed = iv
		}
		fs = append(fs, f)
	}
	return fs
}

func (f Field) value(c *Config) reflect.Value { return reflect.ValueOf(c).Elem().FieldByIndex(f.index) }

// Ptr returns a pointer to the field in c (*int, *float64, *uint64, *string, *[]int, or a
// pointer to a named choice that implements encoding.TextUnmarshaler).
func (f Field) Ptr(c *Config) any { return f.value(c).Addr().Interface() }

// Get formats the field's value in c as its flag would be written.
func (f Field) Get(c *Config) string {
	v := f.value(c)
	switch x := v.Interface().(type) {
	case []int:
		return JoinWidths(x)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case encoding.TextMarshaler:
		b, err := x.MarshalText()
		if err != nil {
			return fmt.Sprint(x)
		}
		return string(b)
	}
	return fmt.Sprint(v.Interface())
}

// Number returns the field's value in c as a number: a count or a float; NaN for a choice,
// a text or a list.
func (f Field) Number(c *Config) float64 {
	v := f.value(c)
	if _, ok := v.Interface().(encoding.TextMarshaler); ok {
		return math.NaN()
	}
	switch v.Kind() {
	case reflect.Int:
		return float64(v.Int())
	case reflect.Uint64:
		return float64(v.Uint())
	case reflect.Float64:
		return v.Float()
	}
	return math.NaN()
}

// Set parses s into the field of c. Names are checked here; ranges by Validate.
func (f Field) Set(c *Config, s string) error {
	v := f.value(c)
	if u, ok := v.Addr().Interface().(encoding.TextUnmarshaler); ok {
		if err := u.UnmarshalText([]byte(s)); err != nil {
			return err
		}
		if _, ok := u.(*RuleSpec); ok {
			c.normalizeRule() // --update sgd sets the two weights
		}
		return nil
	}
	switch p := v.Addr().Interface().(type) {
	case *string:
		*p = s
	case *int:
		x, err := strconv.Atoi(s)
		if err != nil {
			return fmt.Errorf("%q is not an integer", s)
		}
		*p = x
	case *uint64:
		x, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return fmt.Errorf("%q is not a non-negative integer", s)
		}
		*p = x
	case *float64:
		x, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return fmt.Errorf("%q is not a number", s)
		}
		*p = x
	case *[]int:
		w, err := ParseWidths(s)
		if err != nil {
			return err
		}
		*p = w
	default:
		panic(fmt.Sprintf("train: field %s has no parser for %T", f.Name, p))
	}
	return nil
}

// check returns what is wrong with the field's value in c, or "".
func (f Field) check(c *Config) string {
	v := f.value(c)
	if m, ok := v.Interface().(encoding.TextMarshaler); ok {
		// A named choice set in code rather than parsed: it must name something.
		b, _ := m.MarshalText()
		u := reflect.New(v.Type()).Interface().(encoding.TextUnmarshaler)
		if err := u.UnmarshalText(b); err != nil {
			return fmt.Sprintf("%s: %v", f.JSON, err)
		}
		return ""
	}
	if f.allowed.empty() {
		return ""
	}
	var x float64
	switch v.Kind() {
	case reflect.Int:
		x = float64(v.Int())
	case reflect.Float64:
		x = v.Float()
	default:
		return ""
	}
	if f.allowed.contains(x) {
		return ""
	}
	msg := fmt.Sprintf("%s: %v, want %s", f.JSON, v.Interface(), f.allowed.describe(v.Kind() == reflect.Int))
	if f.note != "" {
		msg += " (" + f.note + ")"
	}
	return msg
}

// interval is a range of allowed values, as written in a `check` tag: "[0,1)", "(0,inf)".
type interval struct {
	lo, hi             float64
	loOpen, hiOpen, ok bool
}

func (iv interval) empty() bool { return !iv.ok }

func parseInterval(s string) (interval, error) {
	iv := interval{ok: true}
	if len(s) < 5 || !strings.ContainsRune("[(", rune(s[0])) || !strings.ContainsRune("])", rune(s[len(s)-1])) {
		return iv, fmt.Errorf("check %q: want an interval like [0,1)", s)
	}
	iv.loOpen, iv.hiOpen = s[0] == '(', s[len(s)-1] == ')'
	lo, hi, found := strings.Cut(s[1:len(s)-1], ",")
	if !found {
		return iv, fmt.Errorf("check %q: want an interval like [0,1)", s)
	}
	var err error
	if iv.lo, err = strconv.ParseFloat(lo, 64); err != nil {
		return iv, fmt.Errorf("check %q: %v", s, err)
	}
	if iv.hi, err = strconv.ParseFloat(hi, 64); err != nil {
		return iv, fmt.Errorf("check %q: %v", s, err)
	}
	return iv, nil
}

// contains is false for NaN.
func (iv interval) contains(x float64) bool {
	okLo := x > iv.lo || (!iv.loOpen && x == iv.lo)
	okHi := x < iv.hi || (!iv.hiOpen && x == iv.hi)
	return okLo && okHi
}

func (iv interval) describe(integer bool) string {
	g := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
	switch {
	case math.IsInf(iv.hi, 1) && iv.loOpen:
		return "> " + g(iv.lo)
	case math.IsInf(iv.hi, 1):
		return "≥ " + g(iv.lo)
	case integer && !iv.loOpen && !iv.hiOpen:
		return g(iv.lo) + "…" + g(iv.hi)
	}
	l, r := "[", "]"
	if iv.loOpen {
		l = "("
	}
	if iv.hiOpen {
		r = ")"
	}
	return "in " + l + g(iv.lo) + ", " + g(iv.hi) + r
}

// ParseWidths reads hidden widths written like "16-16" ("" or "none": no hidden layer).
func ParseWidths(s string) ([]int, error) {
	if strings.TrimSpace(s) == "" || s == "none" {
		return nil, nil
	}
	w, err := nn.ParseWidths(s + "-1") // the output width is the data's; 1 stands in for it
	if err != nil {
		return nil, fmt.Errorf("hidden widths %q: want positive widths like 16-16", s)
	}
	return w[:len(w)-1], nil
}

// JoinWidths writes widths as ParseWidths reads them.
func JoinWidths(w []int) string {
	if len(w) == 0 {
		return "none"
	}
	s := make([]string, len(w))
	for i, v := range w {
		s[i] = strconv.Itoa(v)
	}
	return strings.Join(s, "-")
}
