/*
 * Data mining flow sizes: the VL2 workload (Greenberg et al., "VL2: A
 * Scalable and Flexible Data Center Network", SIGCOMM 2009, Fig. 2), in
 * the piecewise-linear form the pFabric simulations use (Alizadeh et al.,
 * "pFabric: Minimal Near-Optimal Datacenter Transport", SIGCOMM 2013,
 * Fig. 4b; also used by QVISOR, HotNets 2023).  That form gives sizes in
 * packets of 1460 bytes: 1, 2, 3, 7, 267, 2107, 66667 and 666667 packets;
 * here they are converted to bytes.  Half of the flows are one packet,
 * 80% at most 7, while the 5% above 3 MB carry most of the bytes.
 * Mean 7.47 MB, largest 973 MB (qvflows -X caps it for short runs).
 *
 * Format (read by qvflows -f, and #included into qvflows.c): one point
 * per line, { BYTES, CUMULATIVE FRACTION OF FLOWS }, fractions rising
 * from 0 to 1; sizes between two points are interpolated linearly.
 */
{      1460, 0.00 },
{      1460, 0.50 },
{      2920, 0.60 },
{      4380, 0.70 },
{     10220, 0.80 },
{    389820, 0.90 },
{   3076220, 0.95 },
{  97333820, 0.99 },
{ 973333820, 1.00 },
