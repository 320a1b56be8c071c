# SPDX-License-Identifier: GPL-2.0-only
# label SETTING: how the FCT reports (report.sh, lsreport.sh) name a
# setting of fct.sh or lsfct.sh in tables and plots.  Sourced.
label() {
	case $1 in
	ideal) echo "tenant 1 alone (ideal)" ;;
	pfifo) echo "pfifo" ;;
	pifo) echo "one PIFO, raw ranks" ;;
	strict12) echo "qvisor 1 >> 2" ;;
	strict21) echo "qvisor 2 >> 1" ;;
	share) echo "qvisor 1 + 2" ;;
	sppifo8) echo "qvisor 1 >> 2, sppifo 8" ;;
	aifo) echo "qvisor 1 >> 2, aifo" ;;
	*-las) echo "$(label "${1%-las}"), LAS" ;;
	*) echo "$1" ;;
	esac
}
