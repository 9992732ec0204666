package events

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestSignVerify(t *testing.T) {
	t.Parallel()
	secret := "whsec_test"
	body := []byte(`{"id":"evt_1","type":"group.created"}`)
	at := time.Unix(1767225600, 0)
	header := Sign(secret, at, body)

	// The recipe in docs/webhooks.md, computed independently of Sign.
	h := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(h, "%d.%s", at.Unix(), body)
	if want := fmt.Sprintf("t=%d,v1=%s", at.Unix(), hex.EncodeToString(h.Sum(nil))); header != want {
		t.Fatalf("Sign = %q, want %q", header, want)
	}

	tests := []struct {
		name   string
		secret string
		header string
		body   []byte
		now    time.Time
		want   error
	}{
		{"valid", secret, header, body, at.Add(time.Minute), nil},
		{"valid with a second, rotated signature", secret, header + ",v1=" + hex.EncodeToString(make([]byte, 32)), body, at, nil},
		{"clock behind", secret, header, body, at.Add(-time.Minute), nil},
		{"too old", secret, header, body, at.Add(DefaultTolerance + time.Second), ErrSignatureExpired},
		{"wrong secret", "other", header, body, at, ErrSignatureInvalid},
		{"changed body", secret, header, append([]byte{' '}, body...), at, ErrSignatureInvalid},
		{"no v1", secret, fmt.Sprintf("t=%d", at.Unix()), body, at, ErrSignatureFormat},
		{"no t", secret, header[len(fmt.Sprint(at.Unix()))+3:], body, at, ErrSignatureFormat},
		{"garbage", secret, "garbage", body, at, ErrSignatureFormat},
		{"short signature", secret, fmt.Sprintf("t=%d,v1=abcd", at.Unix()), body, at, ErrSignatureFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Verify(tt.secret, tt.header, tt.body, tt.now, DefaultTolerance)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}
