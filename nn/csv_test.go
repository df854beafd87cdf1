package nn

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestReadCSVClassification(t *testing.T) {
	// BOM, spaces, quotes, CRLF, a blank line, the label column in the middle, "+2".
	const in = "\uFEFF x1 ,label,x2\r\n0.5, 1 ,-2\r\n\r\n\"1e-3\",0,3\r\n-0,+2,4.25\r\n"
	d, err := ReadCSV(strings.NewReader(in), "t.csv")
	if err != nil {
		t.Fatal(err)
	}
	want := Dataset{Name: "t.csv", N: 3, D: 2, X: []float64{0.5, -2, 1e-3, 3, math.Copysign(0, -1), 4.25},
		Classes: 3, Labels: []int{1, 0, 2}}
	if !reflect.DeepEqual(d, want) {
		t.Fatalf("got %+v\nwant %+v", d, want)
	}
	if math.Signbit(d.X[4]) != true {
		t.Error("-0 lost its sign")
	}
}

func TestReadCSVRegression(t *testing.T) {
	// One label not written as an integer makes them all regression targets, negative
	// integers and integers beyond MaxCSVClasses included.
	const in = "a,label\n1,3\n2,-1\n3,0.5\n4,123456789\n"
	d, err := ReadCSV(strings.NewReader(in), "r.csv")
	if err != nil {
		t.Fatal(err)
	}
	want := Dataset{Name: "r.csv", N: 4, D: 1, X: []float64{1, 2, 3, 4}, Out: 1, Y: []float64{3, -1, 0.5, 123456789}}
	if !reflect.DeepEqual(d, want) {
		t.Fatalf("got %+v\nwant %+v", d, want)
	}
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
}

// TestReadCSVErrors checks each malformed input names file:line:field, the column and the
// expectation.
func TestReadCSVErrors(t *testing.T) {
	cases := []struct {
		name, in string
		want     []string // substrings of the error
	}{
		{"bad number", "x1,x2,x3,label\n1,2,3,0\n1,2,3,0\n1,2,3,0\n1,2,3,0\n1,2,3,0\n1,2,abc,0\n",
			[]string{`data.csv:7:3 (column "x3"): expected a number, got "abc"`}},
		{"empty field", "x1,label\n,1\n", []string{`data.csv:2:1 (column "x1"): expected a number, got ""`}},
		{"missing label column", "x1,x2,Label\n1,2,3\n", []string{`data.csv:1: no column named "label"`, `"x1", "x2", "Label"`}},
		{"duplicate column", "a,label,b,a\n1,0,2,3\n", []string{`data.csv:1:4 (column "a"): duplicate column name, also column 1`}},
		{"duplicate label column", "label,a,label\n1,0,2\n", []string{`data.csv:1:3 (column "label"): duplicate`}},
		{"empty column name", "a,,label\n1,2,3\n", []string{`data.csv:1:2: empty column name`}},
		{"only label", "label\n1\n", []string{`data.csv:1: no feature columns`}},
		{"missing field", "a,b,label\n1,2,0\n1,2\n", []string{`data.csv:3:3 (column "label"): missing field: the row has 2 fields, the header 3`}},
		{"extra field", "a,label\n1,0\n1,0,5\n", []string{`data.csv:3:3: extra field: the row has 3 fields, the header 2`}},
		{"empty file", "", []string{`data.csv: empty file`}},
		{"blank file", "\n\r\n\n", []string{`data.csv: empty file`}},
		{"no data rows", "a,label\n", []string{`data.csv: no data rows after the header`}},
		{"NaN feature", "a,label\n1,0\nNaN,1\n", []string{`data.csv:3:1 (column "a"): expected a finite number, got "NaN"`}},
		{"Inf feature", "a,label\n-inf,0\n", []string{`data.csv:2:1 (column "a"): expected a finite number, got "-inf"`}},
		{"overflow feature", "a,label\n1e999,0\n", []string{`data.csv:2:1 (column "a"): expected a finite number, got "1e999" (beyond the float64 range)`}},
		{"NaN label", "a,label\n1,nan\n", []string{`data.csv:2:2 (column "label"): expected a finite number, got "nan"`}},
		{"word label", "a,label\n1,0\n2,cat\n", []string{`data.csv:3:2 (column "label"): expected a number (an integer class or a regression target), got "cat"`}},
		{"negative class", "a,label\n1,0\n2,-1\n3,2\n", []string{`data.csv:3:2 (column "label"): expected a class label >= 0, got -1`, "-1.0"}},
		{"huge class", "a,label\n1,0\n2,10000\n", []string{`data.csv:3:2 (column "label"): class label 10000 is too large: at most 10000 classes`}},
		{"overflowing class", "a,label\n1,99999999999999999999999\n", []string{`data.csv:2:2 (column "label"): class label 99999999999999999999999 is too large`}},
		{"bare quote", "a,label\n1,0\n2\"x,1\n", []string{`data.csv:3: malformed CSV`}},
		{"unterminated quote", "a,label\n\"1,0\n", []string{`data.csv:2: malformed CSV`}},
		{"header after blank lines", "\n\na,a,label\n", []string{`data.csv:3:2 (column "a"): duplicate`}},
		{"multi-line quoted field", "a,b,label\n\"1\n2\",x,0\n", []string{`data.csv:2:1 (column "a"): expected a number, got "1\n2"`}},
		{"field after multi-line quote", "a,b,label\n\"1\",\"\nx\",0\n1,x,0\n", []string{`data.csv:2:2 (column "b"): expected a number, got "x"`}},
		{"line after multi-line quote", "a,b,label\n\"1\",\"\n2\",0\n1,x,0\n", []string{`data.csv:4:2 (column "b"): expected a number, got "x"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, err := ReadCSV(strings.NewReader(c.in), "data.csv")
			if err == nil {
				t.Fatalf("no error; got %+v", d)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error\n\t%v\nlacks\n\t%s", err, w)
				}
			}
		})
	}
}

func TestLoadCSV(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "blobs.csv")
	if err := os.WriteFile(path, []byte("x,label\n1,0\n2,1\nq,1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadCSV(path); err == nil || !strings.HasPrefix(err.Error(), path+":4:1 ") {
		t.Errorf("error %v should start with %s:4:1", err, path)
	}
	if err := os.WriteFile(path, []byte("x,label\n1,0\n2,1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := LoadCSV(path)
	if err != nil || d.Name != "blobs" || d.N != 2 || d.Classes != 2 {
		t.Errorf("got %+v, %v; want data set blobs with 2 examples, 2 classes", d, err)
	}
	missing := filepath.Join(dir, "nope.csv")
	if _, err := LoadCSV(missing); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing file: error %v should name it", err)
	}
}

func TestCSVRoundTrip(t *testing.T) {
	reg := TeacherStudent(50, 3, 4, 1, 0.1, 2)
	reg.Y[0], reg.Y[1], reg.Y[2] = 3, math.Copysign(0, -1), -7 // integer values stay regression
	reg.X[0] = 5e-324
	for _, d := range []Dataset{GaussianMixture(60, 4, 3, 1), Spirals(31, 5, 0.1, 9), reg} {
		var buf bytes.Buffer
		if err := WriteCSV(&buf, d); err != nil {
			t.Fatal(err)
		}
		got, err := ReadCSV(&buf, d.Name)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, d) {
			t.Errorf("%s: round trip changed the data set", d.Name)
		}
		for i := range d.Y {
			if math.Float64bits(got.Y[i]) != math.Float64bits(d.Y[i]) {
				t.Errorf("%s: target %d: %v became %v", d.Name, i, d.Y[i], got.Y[i])
			}
		}
	}
}

func TestWriteCSVFormat(t *testing.T) {
	d := Dataset{Name: "w", N: 2, D: 2, X: []float64{1, 0.25, -3, 1e21}, Out: 1, Y: []float64{2, 0.5}}
	var buf bytes.Buffer
	if err := WriteCSV(&buf, d); err != nil {
		t.Fatal(err)
	}
	const want = "x0,x1,label\n1,0.25,2.0\n-3,1e+21,0.5\n"
	if buf.String() != want {
		t.Errorf("got\n%s\nwant\n%s", buf.String(), want)
	}
}

func TestWriteCSVRefuses(t *testing.T) {
	multi := TeacherStudent(5, 2, 3, 2, 0, 1)
	nan := GaussianMixture(5, 2, 2, 1)
	nan.X[3] = math.NaN()
	inf := TeacherStudent(5, 2, 3, 1, 0, 1)
	inf.Y[4] = math.Inf(-1)
	bad := GaussianMixture(5, 2, 2, 1)
	bad.Labels[0] = 7
	for _, c := range []struct {
		d    Dataset
		want string
	}{
		{multi, "2 regression targets"},
		{nan, "feature 1 of example 1 is NaN"},
		{inf, "target of example 4 is -Inf"},
		{bad, "label 7 of example 0"},
	} {
		var buf bytes.Buffer
		err := WriteCSV(&buf, c.d)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v, want one containing %q", err, c.want)
		}
		if buf.Len() != 0 {
			t.Errorf("%q: wrote %d bytes before refusing", c.want, buf.Len())
		}
	}
}

// FuzzReadCSV: ReadCSV never panics; whatever it accepts is a valid, finite data set that
// WriteCSV reproduces exactly. Seeds: testdata/fuzz/FuzzReadCSV and the ones below.
func FuzzReadCSV(f *testing.F) {
	for _, s := range []string{
		"x,label\n1,0\n2,1\n",
		"a,b,label\n0.5,-1,0.25\n1e3,2,3\n",
		"label,a\n2,1\n",
		"a,label\n1,-1\n",
		"a,label\n1,\"2\"\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		d, err := ReadCSV(bytes.NewReader(in), "fuzz.csv")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.csv") {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		if err := d.Validate(); err != nil {
			t.Fatalf("accepted an invalid data set: %v", err)
		}
		if d.N < 1 || d.Classes > MaxCSVClasses || (d.Classes == 0 && d.Out != 1) {
			t.Fatalf("N=%d Classes=%d Out=%d", d.N, d.Classes, d.Out)
		}
		var buf bytes.Buffer
		if err := WriteCSV(&buf, d); err != nil {
			t.Fatalf("WriteCSV refused what ReadCSV accepted: %v", err)
		}
		back, err := ReadCSV(&buf, d.Name)
		if err != nil {
			t.Fatalf("reading back: %v\n%s", err, buf.String())
		}
		if !reflect.DeepEqual(back, d) {
			t.Fatalf("round trip changed %+v into %+v", d, back)
		}
	})
}

func ExampleReadCSV() {
	const good = "x1,x2,label\n0.5,1.5,0\n-1,2,2\n"
	d, err := ReadCSV(strings.NewReader(good), "points.csv")
	fmt.Println(d.N, d.D, d.Classes, d.Labels, d.X, err)

	_, err = ReadCSV(strings.NewReader(good+"3,abc,1\n"), "points.csv")
	fmt.Println(err)
	// Output:
	// 2 2 3 [0 2] [0.5 1.5 -1 2] <nil>
	// points.csv:4:2 (column "x2"): expected a number, got "abc"
}
