package nn

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// stFile assembles a safetensors file from a header and a data buffer, as the format's
// specification lays it out: the header length as 8 little-endian bytes, the header, the data.
func stFile(header string, data []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	return append(append(b, header...), data...)
}

func TestSafetensorsRoundTrip(t *testing.T) {
	ts := []Tensor{
		{Name: "layers.1.weight", Shape: []int{2, 3}, Data: []float64{1, -2, 0.1, math.Inf(1), math.Copysign(0, -1), 5e-324}},
		{Name: "layers.0.bias", Shape: []int{3}, Data: []float64{math.NaN(), 1e300, -7}},
		{Name: "scalar", Shape: []int{}, Data: []float64{math.Pi}},
		{Name: "empty", Shape: []int{0, 4}, Data: []float64{}},
		{Name: "ünï\"<&>", Shape: []int{1, 1, 1}, Data: []float64{2}},
	}
	meta := map[string]string{"format": "pt", "architecture": "2-3-1 tanh", "quote\"": "<&>\n"}
	var buf bytes.Buffer
	if err := WriteSafetensors(&buf, ts, meta); err != nil {
		t.Fatal(err)
	}
	if n := binary.LittleEndian.Uint64(buf.Bytes()); (8+n)%8 != 0 {
		t.Errorf("header length %d: data not 8-byte aligned", n)
	}
	got, gotMeta, err := ReadSafetensors(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(gotMeta, meta) {
		t.Errorf("metadata %v, want %v", gotMeta, meta)
	}
	if len(got) != len(ts) {
		t.Fatalf("%d tensors, want %d", len(got), len(ts))
	}
	want := map[string]Tensor{}
	for _, x := range ts {
		want[x.Name] = x
	}
	for i, g := range got {
		if i > 0 && got[i-1].Name >= g.Name {
			t.Errorf("tensors not sorted by name: %q before %q", got[i-1].Name, g.Name)
		}
		w := want[g.Name]
		if !reflect.DeepEqual(g.Shape, w.Shape) || len(g.Data) != len(w.Data) {
			t.Fatalf("%q: shape %v len %d, want %v len %d", g.Name, g.Shape, len(g.Data), w.Shape, len(w.Data))
		}
		for k := range g.Data {
			if math.Float64bits(g.Data[k]) != math.Float64bits(w.Data[k]) {
				t.Errorf("%q[%d] = %v, want %v (bit for bit)", g.Name, k, g.Data[k], w.Data[k])
			}
		}
	}
}

// TestWriteSafetensorsBytes compares the writer's output with a file laid out by hand from
// the specification: metadata first, tensors by name, compact JSON, spaces to 8-byte alignment.
func TestWriteSafetensorsBytes(t *testing.T) {
	ts := []Tensor{
		{Name: "b", Shape: []int{}, Data: []float64{0.1}},
		{Name: "a", Shape: []int{1, 2}, Data: []float64{1, -2}},
	}
	var buf bytes.Buffer
	if err := WriteSafetensors(&buf, ts, map[string]string{"k": "v<&>"}); err != nil {
		t.Fatal(err)
	}
	// 139 bytes of JSON + 5 spaces = 144 = 0x90.
	want := []byte{0x90, 0, 0, 0, 0, 0, 0, 0}
	want = append(want, `{"__metadata__":{"k":"v<&>"},"a":{"dtype":"F64","shape":[1,2],"data_offsets":[0,16]},"b":{"dtype":"F64","shape":[],"data_offsets":[16,24]}}     `...)
	want = append(want,
		0, 0, 0, 0, 0, 0, 0xf0, 0x3f, // 1.0 = 0x3FF0000000000000
		0, 0, 0, 0, 0, 0, 0, 0xc0, // -2.0 = 0xC000000000000000
		0x9a, 0x99, 0x99, 0x99, 0x99, 0x99, 0xb9, 0x3f, // 0.1 = 0x3FB999999999999A
	)
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("got\n%q\nwant\n%q", buf.Bytes(), want)
	}

	buf.Reset()
	if err := WriteSafetensors(&buf, nil, nil); err != nil {
		t.Fatal(err)
	}
	if want := "\x08\x00\x00\x00\x00\x00\x00\x00{}      "; buf.String() != want {
		t.Errorf("empty file: got %q, want %q", buf.String(), want)
	}
}

// TestReadSafetensorsF32 reads a file written byte by byte from the specification, holding an
// F32 Linear layer as PyTorch's state_dict names it; F32 values widen exactly to float64.
func TestReadSafetensorsF32(t *testing.T) {
	// 167 bytes of JSON + 1 space = 168 = 0xA8.
	file := []byte{0xa8, 0, 0, 0, 0, 0, 0, 0}
	file = append(file, `{"__metadata__":{"format":"pt"},"layers.0.bias":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"layers.0.weight":{"dtype":"F32","shape":[2,2],"data_offsets":[8,24]}} `...)
	file = append(file,
		0x00, 0x00, 0x40, 0x40, // 3 = 0x40400000
		0x00, 0x00, 0x80, 0xbe, // -0.25 = 0xBE800000
		0x00, 0x00, 0xc0, 0x3f, // 1.5 = 0x3FC00000
		0x00, 0x00, 0x00, 0xc0, // -2 = 0xC0000000
		0xcd, 0xcc, 0xcc, 0x3d, // float32(0.1) = 0x3DCCCCCD
		0x00, 0x00, 0x00, 0x00, // 0
	)
	ts, meta, err := ReadSafetensors(bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	want := []Tensor{
		{Name: "layers.0.bias", Shape: []int{2}, Data: []float64{3, -0.25}},
		{Name: "layers.0.weight", Shape: []int{2, 2}, Data: []float64{1.5, -2, float64(float32(0.1)), 0}},
	}
	if !reflect.DeepEqual(ts, want) {
		t.Errorf("got %v\nwant %v", ts, want)
	}
	if ts[1].Data[2] != 0.100000001490116119384765625 { // the exact value of float32(0.1)
		t.Errorf("float32(0.1) widened to %.30g", ts[1].Data[2])
	}
	if !reflect.DeepEqual(meta, map[string]string{"format": "pt"}) {
		t.Errorf("metadata %v", meta)
	}
}

// TestReadSafetensorsPython reads testdata/linear_f32.safetensors, written by
// testdata/mksafetensors.py: a second implementation of the specification (Python standard
// library only) that lays the file out as safetensors.torch.save_file does for the F32
// state_dict of a ModuleList `layers` of nn.Linear(3, 4) and nn.Linear(4, 2).
func TestReadSafetensorsPython(t *testing.T) {
	ts, meta, err := LoadSafetensors(filepath.Join("testdata", "linear_f32.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if meta["format"] != "pt" {
		t.Errorf("metadata %v, want format=pt", meta)
	}
	// The script's values: element k of a tensor is (k − 5)/7 for weights and (k + 1)/3 for
	// biases, rounded to float32.
	widths := []int{3, 4, 2}
	var want []Tensor
	for i := 0; i+1 < len(widths); i++ {
		in, out := widths[i], widths[i+1]
		b := Tensor{Name: fmt.Sprintf("layers.%d.bias", i), Shape: []int{out}}
		for k := 0; k < out; k++ {
			b.Data = append(b.Data, float64(float32(float64(k+1)/3)))
		}
		w := Tensor{Name: fmt.Sprintf("layers.%d.weight", i), Shape: []int{out, in}}
		for k := 0; k < out*in; k++ {
			w.Data = append(w.Data, float64(float32(float64(k-5)/7)))
		}
		want = append(want, b, w)
	}
	if !reflect.DeepEqual(ts, want) {
		t.Errorf("got %v\nwant %v", ts, want)
	}
}

func TestSaveSafetensorsAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "weights.safetensors")
	a := []Tensor{{Name: "w", Shape: []int{2}, Data: []float64{1, 2}}}
	if err := SaveSafetensors(path, a, nil); err != nil {
		t.Fatal(err)
	}
	b := []Tensor{{Name: "w", Shape: []int{3}, Data: []float64{3, 4, 5}}}
	if err := SaveSafetensors(path, b, map[string]string{"step": "7"}); err != nil {
		t.Fatal(err)
	}
	got, meta, err := LoadSafetensors(path)
	if err != nil || !reflect.DeepEqual(got, b) || meta["step"] != "7" {
		t.Fatalf("got %v %v %v, want the second save", got, meta, err)
	}
	// A refused save leaves the old file and no temporary behind.
	bad := []Tensor{{Name: "w", Shape: []int{4}, Data: []float64{1}}}
	if err := SaveSafetensors(path, bad, nil); err == nil || !strings.HasPrefix(err.Error(), path+": ") {
		t.Errorf("bad tensor: error %v should start with the path", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != "weights.safetensors" {
		t.Errorf("directory holds %v, want only weights.safetensors", entries)
	}
	if got, _, _ := LoadSafetensors(path); !reflect.DeepEqual(got, b) {
		t.Error("refused save changed the file")
	}
	if err := SaveSafetensors(filepath.Join(dir, "no", "such", "dir.safetensors"), a, nil); err == nil {
		t.Error("save into a missing directory: no error")
	}
}

func TestLoadSafetensorsErrorNamesPath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.safetensors")
	if err := os.WriteFile(path, []byte("short"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err := LoadSafetensors(path)
	if err == nil || !strings.HasPrefix(err.Error(), path+": safetensors: ") {
		t.Errorf("error %v should start with the path", err)
	}
	missing := filepath.Join(t.TempDir(), "none.safetensors")
	if _, _, err := LoadSafetensors(missing); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing file: error %v should name it", err)
	}
}

// stEntry formats one F64 header entry.
func stEntry(name, shape string, begin, end int) string {
	return fmt.Sprintf(`%q:{"dtype":"F64","shape":%s,"data_offsets":[%d,%d]}`, name, shape, begin, end)
}

func TestReadSafetensorsErrors(t *testing.T) {
	data16 := make([]byte, 16)
	hugeLen := binary.LittleEndian.AppendUint64(nil, MaxSafetensorsHeader+1)
	pastEnd := binary.LittleEndian.AppendUint64(nil, 100)
	cases := []struct {
		name string
		file []byte
		want string
	}{
		{"empty", nil, "too short"},
		{"short length", []byte{1, 0, 0}, "too short"},
		{"header over the limit", append(hugeLen, "{}"...), "exceeds the limit of 100000000"},
		{"header length past the end", append(pastEnd, "{}"...), "header length 100 exceeds the 2 bytes"},
		{"header length 2^64-1", append(bytes.Repeat([]byte{0xff}, 8), "{}"...), "exceeds the limit"},
		{"empty header", stFile("", nil), "does not start with '{'"},
		{"leading space", stFile(" {}", nil), "does not start with '{'"},
		{"not JSON", stFile("{nope}", nil), "invalid JSON"},
		{"unterminated", stFile(`{"a":{"dtype":"F64"`, nil), "invalid JSON"},
		{"array header", stFile("[1]", nil), "does not start with '{'"},
		{"trailing garbage", stFile("{}  x", nil), "unexpected bytes after the JSON object"},
		{"second object", stFile("{}{}", nil), "unexpected bytes after the JSON object"},
		{"invalid UTF-8", stFile("{\"\xff\":{}}", nil), "not valid UTF-8"},
		{"entry not an object", stFile(`{"a":[1,2]}`, nil), `tensor "a": expected a JSON object`},
		{"metadata not strings", stFile(`{"__metadata__":{"k":1}}`, nil), `__metadata__: value of "k" is 1, want a string`},
		{"metadata not an object", stFile(`{"__metadata__":"x"}`, nil), `__metadata__: expected a JSON object`},
		{"metadata twice", stFile(`{"__metadata__":{},"__metadata__":{}}`, nil), `duplicate "__metadata__"`},
		{"metadata duplicate key", stFile(`{"__metadata__":{"k":"a","k":"b"}}`, nil), `duplicate key "k"`},
		{"duplicate name", stFile("{"+stEntry("a", "[1]", 0, 8)+","+stEntry("a", "[1]", 8, 16)+"}", data16), `duplicate tensor name "a"`},
		{"duplicate field", stFile(`{"a":{"dtype":"F64","dtype":"F64","shape":[1],"data_offsets":[0,8]}}`, data16[:8]), `tensor "a": duplicate field "dtype"`},
		{"missing dtype", stFile(`{"a":{"shape":[1],"data_offsets":[0,8]}}`, data16[:8]), `tensor "a": missing field "dtype"`},
		{"missing shape", stFile(`{"a":{"dtype":"F64","data_offsets":[0,8]}}`, data16[:8]), `tensor "a": missing field "shape"`},
		{"missing offsets", stFile(`{"a":{"dtype":"F64","shape":[1]}}`, data16[:8]), `tensor "a": missing field "data_offsets"`},
		{"dtype not a string", stFile(`{"a":{"dtype":64,"shape":[1],"data_offsets":[0,8]}}`, data16[:8]), `tensor "a": dtype is 64, want a string`},
		{"dtype I64", stFile(`{"a":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}`, data16[:8]), `tensor "a": dtype "I64" is not supported (want F64 or F32)`},
		{"dtype BF16", stFile(`{"a":{"dtype":"BF16","shape":[4],"data_offsets":[0,8]}}`, data16[:8]), `tensor "a": dtype "BF16" is not supported`},
		{"negative dim", stFile("{"+stEntry("a", "[2,-1]", 0, 8)+"}", data16[:8]), `tensor "a": shape [2,-1]: element 1: -1 is negative`},
		{"fractional dim", stFile("{"+stEntry("a", "[1.5]", 0, 8)+"}", data16[:8]), `element 0: 1.5 is not an integer`},
		{"exponent dim", stFile("{"+stEntry("a", "[1e0]", 0, 8)+"}", data16[:8]), `1e0 is not an integer`},
		{"huge dim", stFile("{"+stEntry("a", "[99999999999999999999]", 0, 8)+"}", data16[:8]), `is too large`},
		{"shape not an array", stFile("{"+stEntry("a", `"1"`, 0, 8)+"}", data16[:8]), `shape "1": want an array of integers`},
		{"shape null", stFile("{"+stEntry("a", `null`, 0, 8)+"}", data16[:8]), `shape null: want an array`},
		{"offsets of three", stFile(`{"a":{"dtype":"F64","shape":[1],"data_offsets":[0,8,8]}}`, data16[:8]), `data_offsets [0,8,8]: want 2 integers, got 3`},
		{"negative offset", stFile(`{"a":{"dtype":"F64","shape":[1],"data_offsets":[-8,0]}}`, data16[:8]), `-8 is negative`},
		{"offsets reversed", stFile("{"+stEntry("a", "[0]", 8, 0)+"}", data16[:8]), `data_offsets [8, 0] end before they begin`},
		{"offset past buffer", stFile("{"+stEntry("a", "[2]", 0, 16)+"}", data16[:8]), `data_offsets [0, 16] reach past the 8-byte data buffer`},
		{"size mismatch", stFile("{"+stEntry("a", "[3]", 0, 16)+"}", data16), `tensor "a": F64 of shape [3] needs 24 bytes, data_offsets [0, 16] give 16`},
		{"F32 size mismatch", stFile(`{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, data16[:8]), `F32 of shape [3] needs 12 bytes`},
		{"overflowing shape", stFile("{"+stEntry("a", "[4294967296,4294967296,16]", 0, 8)+"}", data16[:8]), `needs more than the buffer holds`},
		{"overlap", stFile("{"+stEntry("a", "[2]", 0, 16)+","+stEntry("b", "[1]", 8, 16)+"}", data16), `tensors "a" and "b" overlap`},
		{"same range", stFile("{"+stEntry("a", "[1]", 0, 8)+","+stEntry("b", "[1]", 0, 8)+"}", data16), `overlap`},
		{"gap", stFile("{"+stEntry("a", "[1]", 8, 16)+"}", data16), `bytes [0, 8) of the data buffer belong to no tensor`},
		{"trailing bytes", stFile("{"+stEntry("a", "[1]", 0, 8)+"}", data16), `bytes [8, 16) at the end of the data buffer belong to no tensor`},
		{"no tensors, some data", stFile("{}", data16[:4]), `bytes [0, 4) at the end`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ts, _, err := ReadSafetensors(bytes.NewReader(c.file))
			if err == nil {
				t.Fatalf("no error; got %v", ts)
			}
			if !strings.HasPrefix(err.Error(), "safetensors: ") || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error\n\t%v\nwant one containing\n\t%s", err, c.want)
			}
		})
	}
}

// TestReadSafetensorsAccepts covers valid files the writer never produces.
func TestReadSafetensorsAccepts(t *testing.T) {
	f64 := binary.LittleEndian.AppendUint64(nil, math.Float64bits(2.5))
	for _, c := range []struct {
		name string
		file []byte
		want []Tensor
	}{
		{"empty", stFile("{}", nil), []Tensor{}},
		{"padded, unknown field, zero-size tensors anywhere", stFile(
			`{"z":{"dtype":"F64","shape":[0],"data_offsets":[8,8]},"a":{"extra":[{"x":1}],"data_offsets":[0,8],"shape":[],"dtype":"F64"},"e":{"dtype":"F32","shape":[3,0],"data_offsets":[0,0]}}`+"   \t\n ", f64),
			[]Tensor{{Name: "a", Shape: []int{}, Data: []float64{2.5}}, {Name: "e", Shape: []int{3, 0}, Data: []float64{}}, {Name: "z", Shape: []int{0}, Data: []float64{}}}},
	} {
		ts, meta, err := ReadSafetensors(bytes.NewReader(c.file))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if !reflect.DeepEqual(ts, c.want) || meta != nil {
			t.Errorf("%s: got %v %v, want %v and no metadata", c.name, ts, meta, c.want)
		}
	}
}

func TestWriteSafetensorsRefuses(t *testing.T) {
	// A dimension whose square overflows int: 2⁴⁰ with 64-bit ints, 2²⁴ with 32-bit.
	const huge = 1 << (bits.UintSize/2 + 8)
	for _, c := range []struct {
		ts   []Tensor
		meta map[string]string
		want string
	}{
		{[]Tensor{{Name: "a", Shape: []int{1}, Data: []float64{1}}, {Name: "a", Shape: []int{1}, Data: []float64{2}}}, nil, `two tensors named "a"`},
		{[]Tensor{{Name: "__metadata__", Shape: []int{1}, Data: []float64{1}}}, nil, `may not be named "__metadata__"`},
		{[]Tensor{{Name: "a", Shape: []int{2, 2}, Data: []float64{1, 2, 3}}}, nil, `tensor "a" has shape [2 2] but 3 values`},
		{[]Tensor{{Name: "a", Shape: []int{}, Data: nil}}, nil, `has shape [] but 0 values`},
		{[]Tensor{{Name: "a", Shape: []int{-1, -1}, Data: []float64{1}}}, nil, `negative dimension`},
		{[]Tensor{{Name: "a", Shape: []int{huge, huge}, Data: []float64{1}}}, nil, `but 1 values`},
		{[]Tensor{{Name: "a\xff", Shape: []int{1}, Data: []float64{1}}}, nil, `not valid UTF-8`},
		{nil, map[string]string{"k": "\xfe"}, `metadata "k"`},
	} {
		var buf bytes.Buffer
		err := WriteSafetensors(&buf, c.ts, c.meta)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v, want one containing %q", err, c.want)
		}
		if buf.Len() != 0 {
			t.Errorf("%q: wrote %d bytes before refusing", c.want, buf.Len())
		}
	}
}

// FuzzReadSafetensors: ReadSafetensors never panics, and what it accepts survives a write and
// a read unchanged (F32 values are exact in F64). Seeds: testdata/fuzz/FuzzReadSafetensors.
func FuzzReadSafetensors(f *testing.F) {
	var buf bytes.Buffer
	WriteSafetensors(&buf, []Tensor{{Name: "w", Shape: []int{2, 1}, Data: []float64{1, -1}}}, map[string]string{"a": "b"})
	f.Add(buf.Bytes())
	f.Add(stFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, []byte{0, 0, 0x80, 0x3f}))
	f.Add(stFile("{}", nil))
	f.Fuzz(func(t *testing.T, in []byte) {
		ts, meta, err := ReadSafetensors(bytes.NewReader(in))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "safetensors: ") {
				t.Fatalf("error %q lacks the prefix", err)
			}
			return
		}
		var out bytes.Buffer
		if err := WriteSafetensors(&out, ts, meta); err != nil {
			t.Fatalf("cannot write back what was read: %v", err)
		}
		ts2, meta2, err := ReadSafetensors(&out)
		if err != nil {
			t.Fatalf("cannot read back: %v", err)
		}
		if len(meta) == 0 {
			meta = nil // an empty "__metadata__" is not written back
		}
		if !reflect.DeepEqual(meta, meta2) || len(ts) != len(ts2) {
			t.Fatalf("round trip changed the metadata or the tensor count")
		}
		for i := range ts {
			if ts[i].Name != ts2[i].Name || !reflect.DeepEqual(ts[i].Shape, ts2[i].Shape) || len(ts[i].Data) != len(ts2[i].Data) {
				t.Fatalf("round trip changed tensor %q", ts[i].Name)
			}
			for k := range ts[i].Data {
				if math.Float64bits(ts[i].Data[k]) != math.Float64bits(ts2[i].Data[k]) {
					t.Fatalf("round trip changed %q[%d]", ts[i].Name, k)
				}
			}
		}
	})
}

func ExampleWriteSafetensors() {
	var buf bytes.Buffer
	err := WriteSafetensors(&buf, []Tensor{
		{Name: "layers.0.weight", Shape: []int{1, 2}, Data: []float64{0.5, -1}},
		{Name: "layers.0.bias", Shape: []int{1}, Data: []float64{0.25}},
	}, map[string]string{"format": "pt"})
	if err != nil {
		fmt.Println(err)
		return
	}
	n := binary.LittleEndian.Uint64(buf.Bytes())
	fmt.Printf("%q\n", buf.Bytes()[8:8+n])

	ts, meta, err := ReadSafetensors(&buf)
	for _, t := range ts {
		fmt.Println(t.Name, t.Shape, t.Data)
	}
	fmt.Println(meta, err)
	// Output:
	// "{\"__metadata__\":{\"format\":\"pt\"},\"layers.0.bias\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]},\"layers.0.weight\":{\"dtype\":\"F64\",\"shape\":[1,2],\"data_offsets\":[8,24]}} "
	// layers.0.bias [1] [0.25]
	// layers.0.weight [1 2] [0.5 -1]
	// map[format:pt] <nil>
}
