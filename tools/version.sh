#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Print qvisor's version, one form for the module (MODULE_VERSION), DKMS
# (PACKAGE_VERSION, /usr/src/qvisor-VERSION) and the Debian packages.
#
#   release tag vX.Y.Z on HEAD        X.Y.Z
#   N commits after tag vX.Y.Z        X.Y.Z+N.gHASH
#   a git tree without a release tag  V+git.N.gHASH  (V: the VERSION file,
#                                     N: commits in HEAD's history)
#   no git (a release tarball)        the VERSION file as it is
#
# "+" sorts after the release in Debian's version order, so a package
# built from a later commit upgrades one built from the tag.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
base=$(head -n 1 "$top/VERSION" 2>/dev/null | tr -d "[:space:]" || true)

if git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1 &&
   [ -e "$top/.git" ]; then
	if d=$(git -C "$top" describe --tags --long --match 'v[0-9]*' 2>/dev/null); then
		# vX.Y.Z-N-gHASH
		n=${d%-g*}
		n=${n##*-}
		tag=${d%-*-g*}
		tag=${tag#v}
		if [ "$n" = 0 ]; then
			echo "$tag"
		else
			echo "$tag+$n.g${d##*-g}"
		fi
		exit 0
	fi
	n=$(git -C "$top" rev-list --count HEAD 2>/dev/null || echo 0)
	h=$(git -C "$top" rev-parse --short=7 HEAD 2>/dev/null || echo unknown)
	echo "${base:-0.0.0}+git.$n.g$h"
	exit 0
fi
echo "${base:-0.0.0}"
