/*
 * Web search flow sizes: the DCTCP workload (Alizadeh et al., "Data Center
 * TCP (DCTCP)", SIGCOMM 2010, Fig. 4), in the piecewise-linear form the
 * pFabric simulations use (Alizadeh et al., "pFabric: Minimal Near-Optimal
 * Datacenter Transport", SIGCOMM 2013, Fig. 4a; also used by QVISOR,
 * HotNets 2023).  That form gives sizes in packets of 1460 bytes:
 * 6, 13, 19, 33, 53, 133, 667, 1333, 3333, 6667 and 20000 packets; here
 * they are converted to bytes.  Mean 1.67 MB, largest 29.2 MB.
 *
 * Format (read by qvflows -f, and #included into qvflows.c): one point
 * per line, { BYTES, CUMULATIVE FRACTION OF FLOWS }, fractions rising
 * from 0 to 1; sizes between two points are interpolated linearly.
 */
{     8760, 0.00 },
{     8760, 0.15 },
{    18980, 0.20 },
{    27740, 0.30 },
{    48180, 0.40 },
{    77380, 0.53 },
{   194180, 0.60 },
{   973820, 0.70 },
{  1946180, 0.80 },
{  4866180, 0.90 },
{  9733820, 0.97 },
{ 29200000, 1.00 },
