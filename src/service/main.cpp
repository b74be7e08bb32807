// Placeholder until the command line lands (same session); replaced by the real entry point.
int main() {
  return 0;
}
