module github.com/glexec-ng/glexec

go 1.26.0

require (
	github.com/moby/sys/user v0.5.0
	github.com/sirupsen/logrus v1.10.2
)

require (
	golang.org/x/crypto v0.59.0
	golang.org/x/sys v0.50.0
)
