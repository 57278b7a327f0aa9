# Mean value per station, stations in first-seen order.
{
	if (!($1 in n)) order[++k] = $1
	n[$1]++
	sum[$1] += $3
}
END {
	for (i = 1; i <= k; i++)
		printf "%s %.2f\n", order[i], sum[order[i]] / n[order[i]]
}
