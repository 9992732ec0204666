//go:build !linux

package main

import "os"

// echoOff is only implemented on Linux, where Cohort is deployed; elsewhere
// a password is read as typed, so pipe it in (see readPassword).
func echoOff(*os.File) (restore func(), ok bool) { return nil, false }
