package main

import (
	"os"

	"golang.org/x/sys/unix"
)

// echoOff turns off echo on the terminal f, so a typed password is not
// shown, and returns the function that turns it back on. ok is false when
// f is not a terminal (a pipe or a file): then nothing changes.
func echoOff(f *os.File) (restore func(), ok bool) {
	fd := int(f.Fd())
	old, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return nil, false
	}
	quiet := *old
	quiet.Lflag &^= unix.ECHO
	quiet.Lflag |= unix.ICANON | unix.ISIG
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, &quiet); err != nil {
		return nil, false
	}
	return func() { _ = unix.IoctlSetTermios(fd, unix.TCSETS, old) }, true
}
