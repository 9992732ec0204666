package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"sort"
	"strings"

	"github.com/cohorthq/cohort"
)

// body is a decoded JSON request body.
type body struct {
	// raw is the body as sent (for the idempotency hash).
	raw []byte
	// fields maps each top-level member sent to its raw value, so a
	// handler can tell a missing member from an explicit null.
	fields map[string]json.RawMessage
}

func (b *body) present(name string) bool { _, ok := b.fields[name]; return ok }

func (b *body) isNull(name string) bool {
	v, ok := b.fields[name]
	return ok && bytes.Equal(bytes.TrimSpace(v), []byte("null"))
}

// decodeBody reads a JSON object into dst (a pointer to a struct with
// json tags). With required false an empty body is fine and leaves dst
// as it is. Every refusal says what to fix: malformed JSON is a 400 that
// says where, an unknown member or a wrong type is a 422 naming the field,
// a body over the limit is a 413 and a non-JSON content type a 415.
func (h *Handler) decodeBody(w http.ResponseWriter, r *http.Request, dst any, required bool) (*body, error) {
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.opts.MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, &cohort.Error{Code: codeTooLarge, Message: fmt.Sprintf(
				"The request body is larger than %d bytes: send fewer items at once.", h.opts.MaxBodyBytes)}
		}
		return nil, errBadRequest("The request body could not be read completely: send it again.")
	}
	b := &body{raw: raw, fields: map[string]json.RawMessage{}}
	if len(bytes.TrimSpace(raw)) == 0 {
		if required {
			return nil, errBadRequest("The request body is empty: send a JSON object, e.g. " + example(dst) + ".")
		}
		return b, nil
	}
	if err := checkJSONContentType(r); err != nil {
		return nil, err
	}

	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return nil, decodeError(raw, dst, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errBadRequest(fmt.Sprintf(
			"The request body has more after its JSON object (at byte %d): send exactly one JSON object.", dec.InputOffset()))
	}
	// The typed decode succeeded, so the body is one JSON object.
	_ = json.Unmarshal(raw, &b.fields)
	return b, nil
}

// checkJSONContentType accepts application/json and any +json type
// (e.g. application/merge-patch+json).
func checkJSONContentType(r *http.Request) error {
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if ct == "" || err != nil || !(mt == "application/json" || strings.HasSuffix(mt, "+json")) {
		got := ct
		if got == "" {
			got = "none"
		}
		return &cohort.Error{Code: codeUnsupportedMedia, Message: "The request body must be JSON: set the header Content-Type: application/json (got " + quoteTrim(got) + ")."}
	}
	return nil
}

func decodeError(raw []byte, dst any, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		line, col := position(raw, syn.Offset)
		return errBadRequest(fmt.Sprintf("The request body is not valid JSON at line %d, column %d (byte %d): %s. Send a JSON object.",
			line, col, syn.Offset, strings.TrimPrefix(syn.Error(), "json: ")))
	case errors.Is(err, io.ErrUnexpectedEOF):
		line, col := position(raw, int64(len(raw)))
		return errBadRequest(fmt.Sprintf("The request body ends in the middle of its JSON (at line %d, column %d, byte %d): send the complete object.",
			line, col, len(raw)))
	case errors.As(err, &typ):
		if typ.Field == "" {
			return errBadRequest("The request body must be a JSON object, not " + jsonKind(typ.Value) + ": send e.g. " + example(dst) + ".")
		}
		field := typ.Field
		return &cohort.Error{Code: cohort.EINVALID,
			Message: fmt.Sprintf("%s must be %s, not %s.", field, goTypeName(typ.Type), jsonKind(typ.Value)),
			Fields:  map[string][]string{field: {fmt.Sprintf("Must be %s, not %s.", goTypeName(typ.Type), jsonKind(typ.Value))}}}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		msg := "Unknown field: the allowed fields are " + strings.Join(allowedFields(dst), ", ") + "."
		return &cohort.Error{Code: cohort.EINVALID, Message: "Unknown field " + quoteTrim(name) + ": the allowed fields are " +
			strings.Join(allowedFields(dst), ", ") + ".", Fields: map[string][]string{name: {msg}}}
	}
	return errBadRequest("The request body could not be read as JSON (" + strings.TrimPrefix(err.Error(), "json: ") + "): send a JSON object.")
}

// position turns a byte offset into a 1-based line and column.
func position(raw []byte, off int64) (line, col int) {
	if off > int64(len(raw)) {
		off = int64(len(raw))
	}
	before := raw[:off]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(off) - bytes.LastIndexByte(before, '\n')
	return line, col
}

func jsonKind(v string) string {
	switch v {
	case "string":
		return "a string"
	case "number":
		return "a number"
	case "bool":
		return "true or false"
	case "array":
		return "a list"
	case "object":
		return "an object"
	}
	if strings.HasPrefix(v, "number") {
		return "a number"
	}
	return v
}

func goTypeName(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Slice:
		return "a list of " + strings.TrimPrefix(goTypeName(t.Elem()), "a ") + "s"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int64:
		return "a whole number"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return t.String()
}

// allowedFields lists the json names of dst's fields, sorted.
func allowedFields(dst any) []string {
	t := reflect.TypeOf(dst)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var out []string
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// example is a short JSON object naming dst's fields, for messages.
func example(dst any) string {
	fields := allowedFields(dst)
	parts := make([]string, len(fields))
	for i, f := range fields {
		parts[i] = `"` + f + `": …`
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// quoteTrim quotes s for a message, cut to a readable length.
func quoteTrim(s string) string {
	if len(s) > 60 {
		s = s[:60] + "…"
	}
	return fmt.Sprintf("%q", s)
}
