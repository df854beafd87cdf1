// The safetensors format (https://github.com/huggingface/safetensors), read and written.
//
// A file is
//
//	N       8 bytes, unsigned little-endian: the length of the header
//	header  N bytes of UTF-8 JSON, possibly padded at the end with spaces
//	buffer  the rest of the file: the tensors' bytes, little-endian, row-major
//
// The header is one JSON object mapping each tensor name to
//
//	{"dtype": "F64", "shape": [2, 3], "data_offsets": [begin, end]}
//
// with [begin, end) a byte range of the buffer, plus an optional "__metadata__" entry, an
// object of string values. The reader checks what the reference implementation checks: the
// header length is at most 100 MB and fits in the file, the header starts with '{' and is
// valid UTF-8 JSON with nothing but whitespace after the object, names are unique, every
// entry has the three fields, dimensions are non-negative, the byte range has the size
// shape product × dtype size, and the ranges, sorted, tile the buffer exactly (no gap, no
// overlap, no trailing bytes). Unknown fields inside a tensor entry are ignored, as the
// reference does. It reads dtypes F64 and F32 (widened to float64) and refuses the others.
//
// The writer writes F64 only. Like the reference it puts "__metadata__" first, the tensors
// after it in the order of their data (here sorted by name, metadata keys sorted too), writes
// compact JSON with fields in the order dtype, shape, data_offsets, and pads the header with
// spaces to a multiple of 8 bytes so the buffer starts 8-byte aligned.

package nn

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/bits"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"

	"sharpflat/internal/tempfile"
)

// Tensor is a named float64 array in row-major order; len(Data) is the product of Shape
// (1 for a scalar, whose Shape is empty).
type Tensor struct {
	Name  string
	Shape []int
	Data  []float64
}

// MaxSafetensorsHeader is the largest header length accepted, as in the reference
// implementation (100 MB).
const MaxSafetensorsHeader = 100_000_000

// safetensorsMetadataKey names the header entry holding the string→string metadata.
const safetensorsMetadataKey = "__metadata__"

// ReadSafetensors reads a safetensors stream: its tensors sorted by name, and its metadata
// (nil if the file has none). F32 tensors are widened to float64. The whole stream is read
// into memory first, so no allocation is sized by the header before the bytes it describes
// have arrived. Errors start with "safetensors: ".
func ReadSafetensors(r io.Reader) ([]Tensor, map[string]string, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, nil, fmt.Errorf("safetensors: %w", err)
	}
	ts, meta, err := parseSafetensors(b)
	if err != nil {
		return nil, nil, fmt.Errorf("safetensors: %w", err)
	}
	return ts, meta, nil
}

// LoadSafetensors reads the safetensors file at path, as ReadSafetensors. Errors start with
// the path.
func LoadSafetensors(path string) ([]Tensor, map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	ts, meta, err := parseSafetensors(b)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: safetensors: %w", path, err)
	}
	return ts, meta, nil
}

// tensorEntry is one tensor's header entry, checked.
type tensorEntry struct {
	name       string
	dtype      string
	size       int // bytes per element
	shape      []int
	begin, end int
}

func parseSafetensors(b []byte) ([]Tensor, map[string]string, error) {
	if len(b) < 8 {
		return nil, nil, fmt.Errorf("file of %d bytes is too short to hold the 8-byte header length", len(b))
	}
	n := binary.LittleEndian.Uint64(b)
	if n > MaxSafetensorsHeader {
		return nil, nil, fmt.Errorf("header length %d exceeds the limit of %d bytes", n, MaxSafetensorsHeader)
	}
	if n > uint64(len(b)-8) {
		return nil, nil, fmt.Errorf("header length %d exceeds the %d bytes that follow it (truncated file?)", n, len(b)-8)
	}
	header, buf := b[8:8+n], b[8+n:]
	entries, meta, err := parseSafetensorsHeader(header, len(buf))
	if err != nil {
		return nil, nil, err
	}

	// The byte ranges, sorted, must tile the buffer: each starts where the previous ended.
	byOffset := slices.Clone(entries)
	slices.SortStableFunc(byOffset, func(a, b tensorEntry) int {
		if a.begin != b.begin {
			return a.begin - b.begin
		}
		return a.end - b.end
	})
	at, prev := 0, ""
	for _, e := range byOffset {
		switch {
		case e.begin > at:
			return nil, nil, fmt.Errorf("bytes [%d, %d) of the data buffer belong to no tensor (next tensor %q starts at %d)", at, e.begin, e.name, e.begin)
		case e.begin < at:
			return nil, nil, fmt.Errorf("tensors %q and %q overlap: %q starts at byte %d, before %d", prev, e.name, e.name, e.begin, at)
		}
		at, prev = e.end, e.name
	}
	if at != len(buf) {
		return nil, nil, fmt.Errorf("bytes [%d, %d) at the end of the data buffer belong to no tensor", at, len(buf))
	}

	ts := make([]Tensor, len(entries))
	for i, e := range entries {
		raw := buf[e.begin:e.end]
		data := make([]float64, len(raw)/e.size)
		switch e.dtype {
		case "F64":
			for k := range data {
				data[k] = math.Float64frombits(binary.LittleEndian.Uint64(raw[8*k:]))
			}
		case "F32":
			for k := range data {
				data[k] = float64(math.Float32frombits(binary.LittleEndian.Uint32(raw[4*k:])))
			}
		}
		ts[i] = Tensor{Name: e.name, Shape: e.shape, Data: data}
	}
	slices.SortFunc(ts, func(a, b Tensor) int { return strings.Compare(a.Name, b.Name) })
	return ts, meta, nil
}

// parseSafetensorsHeader decodes and checks the JSON header against a data buffer of
// bufLen bytes: everything but the tiling of the buffer.
func parseSafetensorsHeader(header []byte, bufLen int) ([]tensorEntry, map[string]string, error) {
	if len(header) == 0 || header[0] != '{' {
		return nil, nil, fmt.Errorf("header does not start with '{'")
	}
	if !utf8.Valid(header) {
		return nil, nil, fmt.Errorf("header is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(header))
	dec.UseNumber()
	var (
		entries []tensorEntry
		meta    map[string]string
		hasMeta bool
	)
	err := decodeObject(dec, func(key string) error {
		if key == safetensorsMetadataKey {
			if hasMeta {
				return fmt.Errorf("duplicate %q entry", key)
			}
			hasMeta = true
			m, err := decodeMetadata(dec)
			meta = m
			return err
		}
		e, err := decodeTensorEntry(dec, key, bufLen)
		if err != nil {
			return err
		}
		entries = append(entries, e)
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("header: %w", err)
	}
	if rest := header[dec.InputOffset():]; len(bytes.TrimLeft(rest, " \t\r\n")) != 0 {
		return nil, nil, fmt.Errorf("header: unexpected bytes after the JSON object at offset %d", dec.InputOffset())
	}
	// Duplicate names: sort by name and compare neighbours.
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.name
	}
	slices.Sort(names)
	for i := 1; i < len(names); i++ {
		if names[i] == names[i-1] {
			return nil, nil, fmt.Errorf("header: duplicate tensor name %q", names[i])
		}
	}
	return entries, meta, nil
}

// decodeObject reads one JSON object from dec, calling field for each key with the decoder
// positioned at its value; field must consume the value.
func decodeObject(dec *json.Decoder, field func(key string) error) error {
	tok, err := dec.Token()
	if err != nil {
		return jsonSyntaxError(err)
	}
	if tok != json.Delim('{') {
		return fmt.Errorf("expected a JSON object, got %v", jsonTokenString(tok))
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return jsonSyntaxError(err)
		}
		key, ok := tok.(string)
		if !ok {
			return fmt.Errorf("expected an object key, got %v", jsonTokenString(tok))
		}
		if err := field(key); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return jsonSyntaxError(err)
	}
	return nil
}

func decodeMetadata(dec *json.Decoder) (map[string]string, error) {
	meta := map[string]string{}
	err := decodeObject(dec, func(key string) error {
		if _, dup := meta[key]; dup {
			return fmt.Errorf("duplicate key %q", key)
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return jsonSyntaxError(err)
		}
		var v string
		if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &v) != nil {
			return fmt.Errorf("value of %q is %s, want a string", key, jsonSnippet(raw))
		}
		meta[key] = v
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", safetensorsMetadataKey, err)
	}
	return meta, nil
}

// decodeTensorEntry reads the entry of tensor name and checks it on its own: dtype, shape,
// offsets within the buffer, and byte length against the shape.
func decodeTensorEntry(dec *json.Decoder, name string, bufLen int) (tensorEntry, error) {
	e := tensorEntry{name: name}
	var dtype, shape, offsets json.RawMessage
	err := decodeObject(dec, func(key string) error {
		var dst *json.RawMessage
		switch key {
		case "dtype":
			dst = &dtype
		case "shape":
			dst = &shape
		case "data_offsets":
			dst = &offsets
		default:
			var skip json.RawMessage // unknown fields are ignored, as in the reference
			return jsonSyntaxError(dec.Decode(&skip))
		}
		if *dst != nil {
			return fmt.Errorf("duplicate field %q", key)
		}
		return jsonSyntaxError(dec.Decode(dst))
	})
	if err != nil {
		return e, fmt.Errorf("tensor %q: %w", name, err)
	}
	for _, f := range []struct {
		name string
		raw  json.RawMessage
	}{{"dtype", dtype}, {"shape", shape}, {"data_offsets", offsets}} {
		if f.raw == nil {
			return e, fmt.Errorf("tensor %q: missing field %q", name, f.name)
		}
	}

	if dtype[0] != '"' || json.Unmarshal(dtype, &e.dtype) != nil {
		return e, fmt.Errorf("tensor %q: dtype is %s, want a string", name, jsonSnippet(dtype))
	}
	switch e.dtype {
	case "F64":
		e.size = 8
	case "F32":
		e.size = 4
	default:
		return e, fmt.Errorf("tensor %q: dtype %q is not supported (want F64 or F32)", name, e.dtype)
	}

	dims, err := nonNegativeInts(shape, -1)
	if err != nil {
		return e, fmt.Errorf("tensor %q: shape %s: %v", name, jsonSnippet(shape), err)
	}
	// elems = ∏ dims, saturating at bufLen+1: a product beyond the buffer is wrong anyway.
	limit := uint64(bufLen) + 1
	elems := uint64(1)
	e.shape = make([]int, len(dims))
	for i, d := range dims {
		if d > math.MaxInt {
			return e, fmt.Errorf("tensor %q: shape %s: dimension %d is too large", name, jsonSnippet(shape), d)
		}
		e.shape[i] = int(d)
		if hi, lo := bits.Mul64(elems, d); hi != 0 || lo > limit {
			elems = limit
		} else {
			elems = lo
		}
	}
	if slices.Contains(dims, 0) {
		elems = 0
	}

	off, err := nonNegativeInts(offsets, 2)
	if err != nil {
		return e, fmt.Errorf("tensor %q: data_offsets %s: %v", name, jsonSnippet(offsets), err)
	}
	if off[0] > off[1] {
		return e, fmt.Errorf("tensor %q: data_offsets [%d, %d] end before they begin", name, off[0], off[1])
	}
	if off[1] > uint64(bufLen) {
		return e, fmt.Errorf("tensor %q: data_offsets [%d, %d] reach past the %d-byte data buffer", name, off[0], off[1], bufLen)
	}
	e.begin, e.end = int(off[0]), int(off[1])
	if have := uint64(e.end - e.begin); elems == limit || elems*uint64(e.size) != have {
		want := "more than the buffer holds"
		if elems < limit {
			want = fmt.Sprint(elems * uint64(e.size))
		}
		return e, fmt.Errorf("tensor %q: %s of shape %v needs %s bytes, data_offsets [%d, %d] give %d",
			name, e.dtype, e.shape, want, e.begin, e.end, have)
	}
	return e, nil
}

// nonNegativeInts decodes a JSON array of non-negative integers; with n >= 0 it must hold
// exactly n of them.
func nonNegativeInts(raw json.RawMessage, n int) ([]uint64, error) {
	var nums []json.Number
	if raw[0] != '[' || json.Unmarshal(raw, &nums) != nil {
		return nil, fmt.Errorf("want an array of integers")
	}
	if n >= 0 && len(nums) != n {
		return nil, fmt.Errorf("want %d integers, got %d", n, len(nums))
	}
	v := make([]uint64, len(nums))
	for i, s := range nums {
		var err error
		if v[i], err = parseJSONUint(string(s)); err != nil {
			return nil, fmt.Errorf("element %d: %v", i, err)
		}
	}
	return v, nil
}

// parseJSONUint accepts a JSON integer in [0, 2⁶³).
func parseJSONUint(s string) (uint64, error) {
	if strings.HasPrefix(s, "-") {
		return 0, fmt.Errorf("%s is negative", s)
	}
	var v uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%s is not an integer", s)
		}
		hi, lo := bits.Mul64(v, 10)
		lo, carry := bits.Add64(lo, uint64(c-'0'), 0)
		if hi != 0 || carry != 0 || lo > math.MaxInt64 {
			return 0, fmt.Errorf("%s is too large", s)
		}
		v = lo
	}
	return v, nil
}

func jsonSyntaxError(err error) error {
	if err == nil {
		return nil
	}
	if err == io.EOF {
		return fmt.Errorf("invalid JSON: unexpected end of the header")
	}
	return fmt.Errorf("invalid JSON: %v", err)
}

func jsonTokenString(tok json.Token) string {
	if d, ok := tok.(json.Delim); ok {
		return fmt.Sprintf("%q", string(d))
	}
	return fmt.Sprintf("%#v", tok)
}

// jsonSnippet quotes a JSON fragment for an error message, cut to a readable length.
func jsonSnippet(raw []byte) string {
	const limit = 40
	if len(raw) > limit {
		return string(raw[:limit]) + "…"
	}
	return string(raw)
}

// WriteSafetensors writes the tensors as F64 safetensors, with the metadata (if any) in the
// header's "__metadata__" entry. It returns an error, having written nothing, if two tensors
// share a name, a name is "__metadata__", a name or metadata string is not valid UTF-8, a
// dimension is negative, or len(Data) is not the product of Shape.
func WriteSafetensors(w io.Writer, ts []Tensor, meta map[string]string) error {
	header, order, err := safetensorsHeader(ts, meta)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(header)))
	bw.Write(n[:])
	bw.Write(header)
	for _, i := range order {
		for _, v := range ts[i].Data {
			binary.LittleEndian.PutUint64(n[:], math.Float64bits(v))
			bw.Write(n[:])
		}
	}
	return bw.Flush() // bufio keeps the first write error and returns it here
}

// safetensorsHeader checks the tensors and builds the padded header; order is the order of
// the tensors' data in the buffer (by name).
func safetensorsHeader(ts []Tensor, meta map[string]string) (header []byte, order []int, err error) {
	order = make([]int, len(ts))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(ts[a].Name, ts[b].Name) })
	for k, i := range order {
		t := &ts[i]
		switch {
		case k > 0 && t.Name == ts[order[k-1]].Name:
			return nil, nil, fmt.Errorf("safetensors: two tensors named %q", t.Name)
		case t.Name == safetensorsMetadataKey:
			return nil, nil, fmt.Errorf("safetensors: a tensor may not be named %q", t.Name)
		case !utf8.ValidString(t.Name):
			return nil, nil, fmt.Errorf("safetensors: tensor name %q is not valid UTF-8", t.Name)
		}
		elems := 1
		for _, d := range t.Shape {
			if d < 0 {
				return nil, nil, fmt.Errorf("safetensors: tensor %q has shape %v with a negative dimension", t.Name, t.Shape)
			}
			if d != 0 && elems > len(t.Data)/d {
				elems = -1 // more than len(Data)
				break
			}
			elems *= d
		}
		if slices.Contains(t.Shape, 0) {
			elems = 0
		}
		if elems != len(t.Data) {
			return nil, nil, fmt.Errorf("safetensors: tensor %q has shape %v but %d values", t.Name, t.Shape, len(t.Data))
		}
	}

	var h bytes.Buffer
	h.WriteByte('{')
	if len(meta) > 0 {
		keys := make([]string, 0, len(meta))
		for k, v := range meta {
			if !utf8.ValidString(k) || !utf8.ValidString(v) {
				return nil, nil, fmt.Errorf("safetensors: metadata %q: %q is not valid UTF-8", k, v)
			}
			keys = append(keys, k)
		}
		slices.Sort(keys)
		writeJSONString(&h, safetensorsMetadataKey)
		h.WriteString(":{")
		for i, k := range keys {
			if i > 0 {
				h.WriteByte(',')
			}
			writeJSONString(&h, k)
			h.WriteByte(':')
			writeJSONString(&h, meta[k])
		}
		h.WriteByte('}')
	}
	offset := 0
	for k, i := range order {
		t := &ts[i]
		if k > 0 || len(meta) > 0 {
			h.WriteByte(',')
		}
		writeJSONString(&h, t.Name)
		h.WriteString(`:{"dtype":"F64","shape":[`)
		for j, d := range t.Shape {
			if j > 0 {
				h.WriteByte(',')
			}
			fmt.Fprint(&h, d)
		}
		end := offset + 8*len(t.Data)
		fmt.Fprintf(&h, `],"data_offsets":[%d,%d]}`, offset, end)
		offset = end
	}
	h.WriteByte('}')
	// Pad with spaces so the buffer starts at a multiple of 8 bytes.
	for h.Len()%8 != 0 {
		h.WriteByte(' ')
	}
	return h.Bytes(), order, nil
}

// writeJSONString writes s as a JSON string without HTML escaping, as serde_json does.
func writeJSONString(b *bytes.Buffer, s string) {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	enc.Encode(s)           // a valid UTF-8 string always encodes
	b.Truncate(b.Len() - 1) // Encode's newline
}

// SaveSafetensors writes the tensors to path as WriteSafetensors does, atomically: into a
// temporary file in the same directory, synced to disk, then renamed over path, so a reader
// (or a crash) sees either the old file or the complete new one. Errors name the path.
func SaveSafetensors(path string, ts []Tensor, meta map[string]string) (err error) {
	if _, _, err := safetensorsHeader(ts, meta); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	dir := filepath.Dir(path)
	f, err := tempfile.Create(dir, "."+filepath.Base(path)+".tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err = WriteSafetensors(f, ts, meta); err != nil {
		return fmt.Errorf("%s: %w", tmp, err)
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, path); err != nil {
		return err
	}
	// Make the rename itself durable; not every system can sync a directory.
	if d, derr := os.Open(dir); derr == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
