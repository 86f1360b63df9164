import { postgresDatabase } from '../../test/databases.js';
import { metricsScrapeSuite } from '../../test/metrics-scrape.suite.js';

metricsScrapeSuite(postgresDatabase());
