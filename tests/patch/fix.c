/* The fix, in a library: --replace sum_to=sum_fixed. */
int sum_fixed(int n)
{
	int s = 0;

	for (int i = 0; i <= n; i++)
		s += i;
	return s;
}
