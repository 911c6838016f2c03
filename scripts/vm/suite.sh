#!/bin/sh
# Runs inside the VM (as /vmtest/run.sh): the test binaries built by
# make vm-test, with controllers available.
set -u
# The limit tests (memory, pids, cpu) must pass here, not skip.
export GLEXEC_ITEST_GLEXEC=/vmtest/glexec GLEXEC_SANDBOX_HELPER=/vmtest/glexec-sandbox GLEXEC_TEST_REQUIRE_CGROUP_CONTROLLERS=1
status=0
# The node set-up every install uses (Vagrant, make deb).
SRC=/vmtest sh /vmtest/provision.sh node || status=1
grep -q "^glexec49:x:65049:" /etc/group || { echo "vm: provision.sh node made no tracking groups"; status=1; }
for t in /vmtest/*.test; do
	echo "=== vm: $t"
	"$t" -test.count=1 -test.v -test.timeout 20m 2>&1 || status=1
done
exit $status
