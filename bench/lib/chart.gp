# Chart of one benchmark run (called by report.py with data, out and title_text set).
# Left: throughput of each scenario beside its reference (log scale). Right: latency percentiles.
set terminal pngcairo size 1500,620 font "DejaVu Sans,10" noenhanced
set output out
set datafile missing "NaN"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set key top right
set grid ytics
set xtics nomirror font ",9"
set bmargin 5
set multiplot layout 1,2 title title_text font ",11"

set title "Throughput: service vs its reference, same run"
set ylabel "requests/s (log)"
set logscale y
set yrange [1:*]
plot data using 2:xtic(1) title "user-service (label: ratio to reference)" lc rgb "#3465a4", \
     '' using 3 title "reference: nginx for live, pgbench for get_user/me/not_found" lc rgb "#888a85"

set title "Latency at the same load (wrk, log scale)"
set ylabel "ms (log)"
set yrange [0.01:*]
plot data using 4:xtic(1) title "p50" lc rgb "#73d216", \
     '' using 5 title "p99" lc rgb "#f57900", \
     '' using 6 title "p99.9" lc rgb "#cc0000"
unset multiplot
