package events

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Header names of a webhook delivery.
const (
	HeaderEventID   = "Cohort-Event-Id"
	HeaderEventType = "Cohort-Event-Type"
	HeaderSignature = "Cohort-Signature"
	UserAgent       = "Cohort-Webhooks/1"
)

// DefaultTolerance is how old a signed timestamp may be before Verify
// refuses it, so a captured request cannot be replayed later.
const DefaultTolerance = 5 * time.Minute

// Sign returns the Cohort-Signature header value for body sent at t:
// "t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>". Signing
// the timestamp with the body lets a receiver refuse replays.
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(secret, ts, body))
}

func mac(secret, ts string, body []byte) []byte {
	h := hmac.New(sha256.New, []byte(secret))
	h.Write([]byte(ts))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}

// Errors returned by Verify.
var (
	ErrSignatureFormat  = errors.New("events: Cohort-Signature header is malformed: want t=<unix>,v1=<hex>")
	ErrSignatureExpired = errors.New("events: Cohort-Signature timestamp is outside the tolerance")
	ErrSignatureInvalid = errors.New("events: Cohort-Signature does not match the body")
)

// Verify checks a Cohort-Signature header against body: the timestamp
// must be within tolerance of now (either way, for clock skew) and one of
// its v1 signatures must match. Several v1 values are accepted so that a
// sender may sign with an old and a new secret while a secret is rotated.
func Verify(secret, header string, body []byte, now time.Time, tolerance time.Duration) error {
	var ts string
	var sigs [][]byte
	for _, part := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return ErrSignatureFormat
		}
		switch k {
		case "t":
			ts = v
		case "v1":
			b, err := hex.DecodeString(v)
			if err != nil || len(b) != sha256.Size {
				return ErrSignatureFormat
			}
			sigs = append(sigs, b)
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return ErrSignatureFormat
	}
	age := now.Sub(time.Unix(sec, 0))
	if age > tolerance || age < -tolerance {
		return ErrSignatureExpired
	}
	want := mac(secret, ts, body)
	for _, s := range sigs {
		if hmac.Equal(s, want) {
			return nil
		}
	}
	return ErrSignatureInvalid
}
