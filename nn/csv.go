// Data sets as CSV files.
//
// Format (RFC 4180, as read by encoding/csv): a header row naming the columns, then one row
// per example with as many fields as the header.
//
//   - The column named exactly `label` holds the target. If every label is written as an
//     integer (optional sign, decimal digits only: "3", "+3", " 3 "), the set is a
//     classification set with Classes = largest label + 1; labels must then be in
//     [0, MaxCSVClasses). If any label is written otherwise ("3.0", "0.5", "1e3") the set is
//     a regression set with one target per example (Out = 1).
//   - Every other column is a feature, in header order, and must hold a finite number
//     (anything strconv.ParseFloat accepts except NaN and ±Inf).
//   - Spaces around names and values are ignored; a UTF-8 byte-order mark before the header
//     is skipped; blank lines are skipped; line endings may be \n or \r\n.
//
// An error names the file, the line (1-based, counting every line of the file, so the header
// is normally line 1), the field (1-based) and its column name, and what was expected there:
//
//	data.csv:7:3 (column "x2"): expected a number, got "abc"
//
// WriteCSV writes the features as columns x0 … x{D−1} followed by the label column; it
// refuses regression sets with more than one target, which the format cannot hold.

package nn

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// MaxCSVClasses bounds the number of classes a CSV file may declare: class labels must lie in
// [0, MaxCSVClasses). It guards against a regression target mistaken for a class label
// (and against a network with a million outputs).
const MaxCSVClasses = 10000

// csvLabelColumn is the name of the target column.
const csvLabelColumn = "label"

// LoadCSV reads a data set from the CSV file at path (format in the file comment of csv.go).
// Errors start with the path. The data set is named after the file without its extension.
func LoadCSV(path string) (Dataset, error) {
	f, err := os.Open(path)
	if err != nil {
		return Dataset{}, err
	}
	defer f.Close()
	d, err := ReadCSV(f, path)
	if err != nil {
		return Dataset{}, err
	}
	d.Name = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	return d, nil
}

// ReadCSV reads a data set in CSV format from r. The name stands for the file in error
// messages and becomes the data set's Name.
func ReadCSV(r io.Reader, name string) (Dataset, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1 // ragged rows are reported below, with the column
	header, err := cr.Read()
	if err == io.EOF {
		return Dataset{}, fmt.Errorf("%s: empty file: expected a header row naming the columns", name)
	}
	if err != nil {
		return Dataset{}, csvReadError(name, err)
	}

	// Header: unique non-empty names, exactly one of them "label".
	header[0] = strings.TrimPrefix(header[0], "\uFEFF")
	headerLine, _ := cr.FieldPos(0) // 1 unless blank lines come first
	labelCol := -1
	seen := make(map[string]int, len(header))
	for j := range header {
		header[j] = strings.TrimSpace(header[j])
		h := header[j]
		if h == "" {
			return Dataset{}, fmt.Errorf("%s:%d:%d: empty column name", name, headerLine, j+1)
		}
		if k, dup := seen[h]; dup {
			return Dataset{}, fmt.Errorf("%s:%d:%d (column %q): duplicate column name, also column %d", name, headerLine, j+1, h, k+1)
		}
		seen[h] = j
		if h == csvLabelColumn {
			labelCol = j
		}
	}
	if labelCol < 0 {
		return Dataset{}, fmt.Errorf("%s:%d: no column named %q for the targets (columns: %s)", name, headerLine, csvLabelColumn, columnList(header))
	}
	d := len(header) - 1
	if d == 0 {
		return Dataset{}, fmt.Errorf("%s:%d: no feature columns besides %q", name, headerLine, csvLabelColumn)
	}

	var (
		x      []float64 // (n, d)
		y      []float64 // (n) every label as a number
		ints   []int     // (n) every label as a class, while allInt
		allInt = true
		// The first integer label that cannot be a class, reported only if the set turns out
		// to be a classification set.
		badClass error
	)
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return Dataset{}, csvReadError(name, err)
		}
		if len(rec) != len(header) {
			if len(rec) < len(header) {
				line, _ := cr.FieldPos(len(rec) - 1)
				j := len(rec)
				return Dataset{}, fmt.Errorf("%s:%d:%d (column %q): missing field: the row has %d fields, the header %d",
					name, line, j+1, header[j], len(rec), len(header))
			}
			line, _ := cr.FieldPos(len(header))
			return Dataset{}, fmt.Errorf("%s:%d:%d: extra field: the row has %d fields, the header %d",
				name, line, len(header)+1, len(rec), len(header))
		}
		for j, field := range rec {
			s := strings.TrimSpace(field)
			where := func() string {
				line, _ := cr.FieldPos(j)
				return fmt.Sprintf("%s:%d:%d (column %q)", name, line, j+1, header[j])
			}
			if j == labelCol {
				v, err := parseFinite(s, "a number (an integer class or a regression target)")
				if err != nil {
					return Dataset{}, fmt.Errorf("%s: %v", where(), err)
				}
				y = append(y, v)
				if !allInt {
					continue
				}
				if !isIntegerLiteral(s) {
					allInt, ints = false, nil
					continue
				}
				c, err := strconv.Atoi(strings.TrimPrefix(s, "+"))
				switch {
				case err != nil || c >= MaxCSVClasses:
					if badClass == nil {
						badClass = fmt.Errorf("%s: class label %s is too large: at most %d classes (labels 0..%d); for a regression target write it as a decimal, e.g. %s.0",
							where(), s, MaxCSVClasses, MaxCSVClasses-1, s)
					}
				case c < 0:
					if badClass == nil {
						badClass = fmt.Errorf("%s: expected a class label >= 0, got %s; for a regression target write it as a decimal, e.g. %s.0",
							where(), s, s)
					}
				}
				ints = append(ints, c)
				continue
			}
			v, err := parseFinite(s, "a number")
			if err != nil {
				return Dataset{}, fmt.Errorf("%s: %v", where(), err)
			}
			x = append(x, v)
		}
	}
	n := len(y)
	if n == 0 {
		return Dataset{}, fmt.Errorf("%s: no data rows after the header", name)
	}
	ds := Dataset{Name: name, N: n, D: d, X: x}
	if !allInt {
		ds.Out, ds.Y = 1, y
		return ds, nil
	}
	if badClass != nil {
		return Dataset{}, badClass
	}
	for _, c := range ints {
		ds.Classes = max(ds.Classes, c+1)
	}
	ds.Labels = ints
	return ds, nil
}

// parseFinite parses a finite float64; its error says what was expected (want) and what
// came instead.
func parseFinite(s, want string) (float64, error) {
	v, err := strconv.ParseFloat(s, 64)
	switch {
	case errors.Is(err, strconv.ErrRange) && math.IsInf(v, 0):
		return 0, fmt.Errorf("expected a finite number, got %q (beyond the float64 range)", s)
	case err != nil:
		return 0, fmt.Errorf("expected %s, got %q", want, s)
	case math.IsNaN(v) || math.IsInf(v, 0):
		return 0, fmt.Errorf("expected a finite number, got %q", s)
	}
	return v, nil
}

// isIntegerLiteral reports whether s is an optional sign followed by decimal digits.
func isIntegerLiteral(s string) bool {
	if s != "" && (s[0] == '+' || s[0] == '-') {
		s = s[1:]
	}
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// csvReadError turns an encoding/csv error into one that starts with file:line.
func csvReadError(name string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s:%d: malformed CSV at character %d of the line: %v", name, pe.Line, pe.Column, pe.Err)
	}
	return fmt.Errorf("%s: %w", name, err)
}

// columnList quotes the column names for an error message, eliding the middle of long lists.
func columnList(header []string) string {
	const show = 8
	q := make([]string, 0, show+1)
	for j, h := range header {
		if j == show && len(header) > show+1 {
			q = append(q, fmt.Sprintf("… %d more", len(header)-show))
			break
		}
		q = append(q, strconv.Quote(h))
	}
	return strings.Join(q, ", ")
}

// WriteCSV writes d in the CSV format ReadCSV reads: columns x0 … x{D−1}, then label.
// Numbers are written in the shortest form that parses back to the same float64, so
// ReadCSV(WriteCSV(d)) reproduces d exactly (up to Name). Regression targets are always
// written with a decimal point or exponent ("3.0", not "3") so they read back as regression.
//
// WriteCSV returns an error, and writes nothing, if d fails Validate, holds a NaN or ±Inf, or
// is a regression set with Out != 1, which the format cannot hold.
func WriteCSV(w io.Writer, d Dataset) error {
	if err := d.Validate(); err != nil {
		return fmt.Errorf("WriteCSV: %w", err)
	}
	if d.Classes == 0 && d.Out != 1 {
		return fmt.Errorf("WriteCSV: data set %q has %d regression targets per example; the CSV format holds one (column %q)", d.Name, d.Out, csvLabelColumn)
	}
	for i, v := range d.X {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("WriteCSV: data set %q: feature %d of example %d is %v", d.Name, i%d.D, i/d.D, v)
		}
	}
	for i, v := range d.Y {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("WriteCSV: data set %q: target of example %d is %v", d.Name, i, v)
		}
	}

	bw := bufio.NewWriter(w)
	var buf []byte
	for j := 0; j < d.D; j++ {
		buf = append(buf, 'x')
		buf = strconv.AppendInt(buf, int64(j), 10)
		buf = append(buf, ',')
	}
	buf = append(buf, csvLabelColumn...)
	buf = append(buf, '\n')
	for i := 0; i < d.N; i++ {
		if _, err := bw.Write(buf); err != nil {
			return err
		}
		buf = buf[:0]
		for _, v := range d.X[i*d.D : (i+1)*d.D] {
			buf = strconv.AppendFloat(buf, v, 'g', -1, 64)
			buf = append(buf, ',')
		}
		if d.Classes > 0 {
			buf = strconv.AppendInt(buf, int64(d.Labels[i]), 10)
		} else {
			start := len(buf)
			buf = strconv.AppendFloat(buf, d.Y[i], 'g', -1, 64)
			if isIntegerLiteral(string(buf[start:])) {
				buf = append(buf, ".0"...)
			}
		}
		buf = append(buf, '\n')
	}
	if _, err := bw.Write(buf); err != nil {
		return err
	}
	return bw.Flush()
}
