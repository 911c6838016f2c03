#!/bin/sh
# Runs inside the VM (as /vmtest/run.sh): the test binaries built by
# make vm-test, with every cgroup controller available.
set -u
# The limit tests (memory, pids, cpu) must pass here, not skip.
export GLEXEC_ITEST_GLEXEC=/vmtest/glexec GLEXEC_SANDBOX_HELPER=/vmtest/glexec-sandbox GLEXEC_TEST_REQUIRE_CGROUP_CONTROLLERS=1
status=0
run() {
	echo "=== vm: $1"
	"/vmtest/$1" -test.count=1 -test.v -test.timeout 20m 2>&1 || status=1
}
# The helper's own suites expect a bare node ...
run cgroup.test
run sandbox.test
# ... the integration suite a provisioned one, made by the same script
# every install uses (Vagrant, make deb).
SRC=/vmtest sh /vmtest/provision.sh node || status=1
grep -q "^glexec49:x:65049:" /etc/group || { echo "vm: provision.sh node made no tracking groups"; status=1; }
run integration.test
exit $status
