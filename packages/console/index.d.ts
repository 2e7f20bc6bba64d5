/** The console's built files (index.html, assets/): what the aggregator serves at /console/. */
export declare const consoleAssetsDir: string;
