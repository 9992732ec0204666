package scim

// WithMaxScan lowers the filter scan bound so that a test can exceed it
// with a few resources.
func WithMaxScan(n int) Option { return func(h *Handler) { h.maxScan = n } }
